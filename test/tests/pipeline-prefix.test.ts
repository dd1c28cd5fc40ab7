import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { SliceMessage } from "@thumbs/core";
import { awaitOrder, type LocalStack, listKeys, samplePhotos, uploadOrder } from "@thumbs/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturePublishBatches } from "./helpers/capture.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

describe("the pipeline with a prefix listing: the coordinator lists once, workers never list", () => {
  let stack: LocalStack;
  let batches: ReturnType<typeof capturePublishBatches>;
  const orderId = uniqueOrderId("prefix");
  const prefix = `uploads/${orderId}/`;

  beforeAll(async () => {
    // Prepare: 22 photos (one in a sub-folder), a folder marker, and a neighbour order sharing the prefix start.
    stack = await testStack({ sliceSize: 2 });
    batches = capturePublishBatches(stack.emulator.clients.sns);
    const photos = await samplePhotos(22, { seed: "prefix", megapixels: 0.1 });
    const { s3 } = stack.emulator.clients;
    const bucket = stack.emulator.resources.sourceBucket;
    await uploadOrder(s3, bucket, prefix, photos.slice(0, 21));
    await uploadOrder(s3, bucket, `${prefix}sub/`, photos.slice(21));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}empty-folder/`, Body: "" }));
    await uploadOrder(s3, bucket, `uploads/${orderId}-other/`, photos.slice(0, 3));

    // Act
    await stack.emitOrderCompleted({ orderId, bucket, prefix });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });
  });
  afterAll(() => stack?.stop());

  it("tells the backend at once about an order whose prefix holds no images (no worker ever runs)", async () => {
    // Prepare
    const emptyId = uniqueOrderId("empty");
    const bucket = stack.emulator.resources.sourceBucket;

    // Act
    const plan = await stack.emitOrderCompleted({ orderId: emptyId, bucket, prefix: `uploads/${emptyId}/` });

    // Assess
    expect(plan).toMatchObject({ total: 0, slices: 0 });
    expect(await stack.orderEvents.waitFor(emptyId)).toMatchObject({
      type: "order-thumbnails-completed",
      status: "succeeded",
      total: 0,
      done: 0,
      failed: 0,
    });
  });

  it("counts every object under the prefix except folder markers, and resizes each once", async () => {
    // Assess
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({
      total: 22,
      done: 22,
      failed: 0,
      complete: true,
    });
    const thumbs = await listKeys(
      stack.emulator.clients.s3,
      stack.emulator.resources.thumbnailBucket,
      `${orderId}/`,
    );
    expect(thumbs).toHaveLength(44);
  });

  it("publishes 11 slices of planned { index, key } items in PublishBatch calls of at most 10 entries", async () => {
    // Assess: what the coordinator published for the order (beforeAll).
    const entries = batches.flat();
    expect(entries).toHaveLength(11);
    expect(batches.map((b) => b.length)).toEqual([10, 1]);
    const slices = entries.map((e) => JSON.parse(e.Message!) as SliceMessage);
    const items = slices.flatMap((s) => s.items);
    expect(slices.every((s) => s.version === 2 && s.items.length === 2)).toBe(true);
    expect(items.map((i) => i.index).sort((a, b) => a - b)).toEqual([...Array(22).keys()]);
    // Each item names the key the plan holds for its index, and no key is outside the order's prefix.
    for (const item of items) {
      expect(await stack.ledger.plannedKeys(orderId, item.index, 1)).toEqual([item]);
      expect(item.key.startsWith(prefix) && !item.key.endsWith("/")).toBe(true);
    }
  });

  it("reports every planned index exactly once", async () => {
    // Assess
    const reported = () =>
      stack.workers.events
        .flatMap((e) => (e.type === "slices" ? e.reports : []))
        .flatMap((r) => r.images.map((i) => i.index))
        .sort((a, b) => a - b);
    // A worker reports its slice after the ledger saw the last image: wait for the last report too.
    await expect.poll(() => reported().length).toBe(22);
    expect(reported()).toEqual(Array.from({ length: 22 }, (_, i) => i));
  });
});
