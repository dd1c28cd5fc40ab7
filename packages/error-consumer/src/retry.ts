import { type ErrorRecord, publishSlices, type SliceMessage, sliceMessage } from "@thumbs/core";
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
  const spec = await deps.ledger.getOrderSpec(orderId);
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
  const slices = retrySlices(orderId, spec, records, deps.config.sliceSize);
  await publishSlices(deps.sns, deps.config.sliceTopicArn, slices);
  return json(202, { orderId, images: records.length, slices: slices.length });
}

function retrySlices(
  orderId: string,
  spec: Awaited<ReturnType<AdminDeps["ledger"]["getOrderSpec"]>>,
  records: ErrorRecord[],
  sliceSize: number,
): SliceMessage[] {
  const slices: SliceMessage[] = [];
  for (let at = 0; at < records.length; at += sliceSize) {
    const chunk = records.slice(at, at + sliceSize);
    // Retry slices are numbered after the planned ones, so records and logs tell them apart.
    slices.push(
      sliceMessage(
        { orderId, bucket: spec.bucket, output: spec.output },
        spec.slices + slices.length,
        { offset: chunk[0]!.index, count: chunk.length },
        { kind: "items", items: chunk.map((r) => ({ index: r.index, key: r.key })) },
      ),
    );
  }
  return slices;
}
