import { setTimeout as sleep } from "node:timers/promises";
import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from "@aws-sdk/client-sns";
import pLimit from "p-limit";
import { SNS_BATCH_MAX_BYTES, SNS_BATCH_MAX_ENTRIES } from "./constants.js";
import type { SliceMessage } from "./contracts.js";
import { PublishError } from "./errors.js";

export interface PublishOptions {
  /** Retries of the entries SNS reports as failed (not counting the SDK's own retries of the call). */
  maxAttempts?: number;
  baseDelayMs?: number;
  /** PublishBatch calls in flight at once. */
  parallelism?: number;
}

/**
 * Groups entries into PublishBatch requests that respect both SNS limits: at most 10 entries and
 * at most 256 KiB of payload per request.
 */
export function batchEntries(entries: PublishBatchRequestEntry[]): PublishBatchRequestEntry[][] {
  const batches: PublishBatchRequestEntry[][] = [];
  let current: PublishBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.Message ?? "", "utf8");
    if (size > SNS_BATCH_MAX_BYTES) {
      throw new RangeError(
        `Slice message ${entry.Id} is ${size} bytes; SNS accepts at most ${SNS_BATCH_MAX_BYTES}.`,
      );
    }
    if (current.length === SNS_BATCH_MAX_ENTRIES || bytes + size > SNS_BATCH_MAX_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Publishes every slice. Entries SNS reports as failed are retried with backoff; if any still fail,
 * throws PublishError so the whole invocation is retried (workers ignore slices they already did).
 */
export async function publishSlices(
  sns: SNSClient,
  topicArn: string,
  slices: readonly SliceMessage[],
  options: PublishOptions = {},
): Promise<{ batches: number }> {
  const { maxAttempts = 5, baseDelayMs = 100, parallelism = 4 } = options;
  // Ids by position: a hand-back and a Transient re-queue of one slice share its slice index, and SNS
  // refuses a batch whose ids repeat.
  const entries = slices.map((slice, position) => ({ Id: `s${position}`, Message: JSON.stringify(slice) }));
  const batches = batchEntries(entries);
  const limit = pLimit(parallelism);
  const failed = (
    await Promise.all(
      batches.map((batch) => limit(() => publishWithRetry(sns, topicArn, batch, maxAttempts, baseDelayMs))),
    )
  ).flat();
  if (failed.length > 0) {
    const ids = failed.map((f) => slices[Number(f.Id.slice(1))]?.sliceIndex ?? -1);
    throw new PublishError(
      `${failed.length} slice(s) could not be published after ${maxAttempts} attempts: ${failed
        .slice(0, 5)
        .map((f) => `slice ${slices[Number(f.Id.slice(1))]?.sliceIndex} (${f.Code}: ${f.Message ?? ""})`)
        .join(", ")}`,
      ids,
    );
  }
  return { batches: batches.length };
}

interface FailedEntry {
  Id: string;
  Code: string;
  Message?: string;
}

async function publishWithRetry(
  sns: SNSClient,
  topicArn: string,
  batch: PublishBatchRequestEntry[],
  maxAttempts: number,
  baseDelayMs: number,
): Promise<FailedEntry[]> {
  let pending = batch;
  let lastFailures: FailedEntry[] = [];
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(baseDelayMs * 2 ** (attempt - 2) * (0.5 + Math.random()));
    const response = await sns.send(
      new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: pending }),
    );
    const failures = (response.Failed ?? []).map((f) => ({
      Id: f.Id ?? "",
      Code: f.Code ?? "Unknown",
      Message: f.Message,
    }));
    // A sender fault (malformed entry) will fail the same way again: report it now.
    const senderFaults = (response.Failed ?? []).filter((f) => f.SenderFault).map((f) => f.Id);
    if (senderFaults.length > 0) return failures.filter((f) => senderFaults.includes(f.Id));
    const failedIds = new Set(failures.map((f) => f.Id));
    pending = pending.filter((e) => failedIds.has(e.Id ?? ""));
    lastFailures = failures;
  }
  return pending.length > 0 ? lastFailures : [];
}
