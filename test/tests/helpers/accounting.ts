import { thumbnailKey } from "@thumbs/core";
import type { LocalStack } from "@thumbs/local";
import { listKeys } from "@thumbs/local";
import { expect } from "vitest";

/**
 * The promise of the pipeline, checked after a fault: every image of the order is either done with both
 * thumbnails in the bucket, or failed with exactly one error record; the counters add up; the order
 * completed exactly once, and its completion event reached the order-events topic. `keys` are the order's keys in index order (the coordinator sorts them).
 */
export async function expectNothingLost(stack: LocalStack, orderId: string, keys: string[]): Promise<void> {
  const progress = await stack.ledger.getProgress(orderId);
  expect(progress).toMatchObject({ total: keys.length, pending: 0, complete: true });
  expect(progress.done + progress.failed).toBe(keys.length);
  // The backend heard of it, with the same counts, whatever the fault.
  expect(await stack.orderEvents.waitFor(orderId)).toMatchObject({
    orderId,
    status: progress.status,
    total: keys.length,
    done: progress.done,
    failed: progress.failed,
  });

  const done = await stack.ledger.doneIndices(
    orderId,
    keys.map((_, i) => i),
  );
  const records = await stack.ledger.failedRecords(orderId);
  const thumbnails = new Set(
    await listKeys(stack.emulator.clients.s3, stack.emulator.resources.thumbnailBucket, `${orderId}/`),
  );
  expect(done.size).toBe(progress.done);
  expect(records).toHaveLength(progress.failed);
  for (const [index, key] of keys.entries()) {
    const recorded = records.filter((r) => r.index === index);
    if (done.has(index)) {
      expect(recorded).toEqual([]);
      for (const size of ["large", "small"]) {
        expect(
          thumbnails.has(thumbnailKey({ prefix: "", orderId, size, sourceKey: key, format: "jpeg" })),
        ).toBe(true);
      }
    } else {
      expect(recorded.map((r) => r.key)).toEqual([key]);
    }
  }
  const signals = (await stack.ledger.completions()).filter((c) => c.orderId === orderId);
  expect(signals).toHaveLength(1);
}
