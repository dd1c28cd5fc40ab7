import { type ErrorRecord, publishSlices, SliceCutter, type SliceMessage } from "@thumbs/core";
import { z } from "zod";
import type { AdminDeps } from "./deps.js";
import { HttpError } from "./errors.js";
import { type ApiResponse, json, parseInput } from "./http.js";

const RetryBody = z
  .object({ indices: z.array(z.number().int().min(0)).min(1).max(10_000).optional() })
  .strict();

/**
 * Re-publishes failed images of an order through the same pipeline: `items` slices that name each
 * image's index and key. When a retried image succeeds the worker moves it from failed to done; if it
 * fails again its one error record is replaced. Either way the counters stay exact.
 */
export async function retryFailed(deps: AdminDeps, orderId: string, body: unknown): Promise<ApiResponse> {
  const { indices } = parseInput(RetryBody, body, "retry request");
  const spec = await deps.ledger.requirePlannedOrder(orderId);
  const records = await deps.ledger.failedRecords(orderId, indices ? [...new Set(indices)] : undefined);
  if (indices) {
    const missing = indices.filter((i) => !records.some((r) => r.index === i));
    if (missing.length > 0) {
      throw new HttpError(
        409,
        `Image(s) ${missing.slice(0, 10).join(", ")} of order ${orderId} have no error record: only failed images can be retried.`,
      );
    }
  }
  const slices = retrySlices(orderId, spec.slices, records, deps.config.sliceSize);
  await publishSlices(deps.sns, deps.config.sliceTopicArn, slices);
  return json(202, { orderId, images: records.length, slices: slices.length });
}

/** Retry slices carry each image's planned index and key, numbered after the planned slices. */
function retrySlices(
  orderId: string,
  plannedSlices: number,
  records: ErrorRecord[],
  sliceSize: number,
): SliceMessage[] {
  const cutter = new SliceCutter(orderId, sliceSize, plannedSlices);
  const slices = records.flatMap((r) => cutter.add({ index: r.index, key: r.key }) ?? []);
  const last = cutter.flush();
  return (last ? [...slices, last] : slices).map((slice) => ({ ...slice, retry: true as const }));
}
