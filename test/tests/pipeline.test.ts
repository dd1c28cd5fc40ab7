import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { PublishCommand } from "@aws-sdk/client-sns";
import { type SliceMessage, thumbnailKey } from "@thumbs/core";
import {
  awaitOrder,
  brokenSamples,
  type LocalStack,
  listKeys,
  samplePhotos,
  uploadOrder,
} from "@thumbs/local";
import type { SliceReport } from "@thumbs/worker";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { capturePublishBatches } from "./helpers/capture.js";
import { displayedSize, meanColour } from "./helpers/images.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

/** A landscape image, red on the left and blue on the right, stored with EXIF orientation 6 (90° CW). */
async function orientedImage(): Promise<Buffer> {
  const half = (r: number, b: number) => ({
    input: { create: { width: 400, height: 600, channels: 3 as const, background: { r, g: 0, b } } },
  });
  return sharp({ create: { width: 800, height: 600, channels: 3, background: "#000" } })
    .composite([
      { ...half(255, 0), left: 0, top: 0 },
      { ...half(0, 255), left: 400, top: 0 },
    ])
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

describe("the pipeline, end to end", () => {
  let stack: LocalStack;
  let batches: ReturnType<typeof capturePublishBatches>;

  beforeAll(async () => {
    stack = await testStack({ sliceSize: 8 });
    batches = capturePublishBatches(stack.emulator.clients.sns);
  });
  afterAll(() => stack?.stop());

  /** The slices the coordinator published for one order: the stack is shared, its orders are not. */
  const slicesOf = (orderId: string): SliceMessage[] =>
    batches
      .flat()
      .map((e) => JSON.parse(e.Message!) as SliceMessage)
      .filter((s) => s.orderId === orderId);
  const reportsOf = (orderId: string): SliceReport[] =>
    stack.workers.events
      .flatMap((e) => (e.type === "slices" ? e.reports : []))
      .filter((r) => r.orderId === orderId);
  const eventsOf = (orderId: string) => stack.orderEvents.events.filter((e) => e.orderId === orderId);
  const deliver = (slice: SliceMessage) =>
    stack.emulator.clients.sns.send(
      new PublishCommand({ TopicArn: stack.emulator.topicArn, Message: JSON.stringify(slice) }),
    );

  /**
   * Uploads `uploads` plus the broken samples under a new order, plans it with one more key that has no
   * object behind it, and waits until the order is complete and every slice's report is in (a worker
   * reports a slice only after its last outcome is recorded and its event, if any, taken by SNS).
   */
  async function runOrder(label: string, uploads: Array<{ name: string; data: Buffer }>) {
    const orderId = uniqueOrderId(label);
    const prefix = `orders/${orderId}/`;
    const broken = await brokenSamples();
    const keys = await uploadOrder(stack.emulator.clients.s3, stack.emulator.resources.sourceBucket, prefix, [
      ...uploads,
      ...broken,
    ]);
    const missingKey = `${prefix}missing.jpg`;
    await stack.emitOrderCompleted({
      orderId,
      bucket: stack.emulator.resources.sourceBucket,
      keys: [...keys, missingKey],
    });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 90_000 });
    const slices = slicesOf(orderId);
    await vi.waitFor(
      () => {
        const reported = new Set(reportsOf(orderId).map((r) => r.sliceIndex)).size;
        if (reported < slices.length)
          throw new Error(`${reported} of ${slices.length} slices reported so far`);
      },
      { timeout: 30_000, interval: 20 },
    );
    return { orderId, prefix, broken, missingKey, slices };
  }

  /**
   * Resolves once every event published to the order-events topic so far has reached the backend's
   * listener: publishes a marker event after them and waits for it (the emulator's topic and queue
   * keep publish order).
   */
  async function orderEventsDrained(): Promise<void> {
    const marker = uniqueOrderId("marker");
    await stack.emulator.clients.sns.send(
      new PublishCommand({
        TopicArn: stack.emulator.orderEventsTopicArn,
        Message: JSON.stringify({
          type: "order-thumbnails-completed",
          orderId: marker,
          status: "succeeded",
          total: 0,
          done: 0,
          failed: 0,
          completedAt: new Date().toISOString(),
          revision: 0,
        }),
      }),
    );
    await stack.orderEvents.waitFor(marker, 30_000);
  }

  describe("one order of 52 images (keys listing), of which 4 broken", () => {
    // Every test here only reads what this one run of the order left behind.
    let orderId: string;
    let prefix: string;
    const goodNames: string[] = [];
    const expectedFailures = new Map<string, string>();

    beforeAll(async () => {
      // Prepare
      const photos = await samplePhotos(47, { seed: "e2e", megapixels: 0.3 });
      const uploads = [...photos, { name: "oriented.jpg", data: await orientedImage() }];
      goodNames.push(...uploads.map((u) => u.name));

      // Act
      const order = await runOrder("e2e", uploads);

      ({ orderId, prefix } = order);
      for (const b of order.broken) expectedFailures.set(`${prefix}${b.name}`, b.expectedClass);
      expectedFailures.set(order.missingKey, "NotFound");
    });

    const thumb = async (name: string, size: string) => {
      const key = thumbnailKey({ prefix: "", orderId, size, sourceKey: `${prefix}${name}`, format: "jpeg" });
      const object = await stack.emulator.clients.s3.send(
        new GetObjectCommand({ Bucket: stack.emulator.resources.thumbnailBucket, Key: key }),
      );
      return {
        data: Buffer.from(await object.Body!.transformToByteArray()),
        contentType: object.ContentType,
      };
    };

    it("accounts for every image: done + failed == total, and the order is complete", async () => {
      // Assess
      const p = await stack.ledger.getProgress(orderId);
      expect(p).toMatchObject({
        total: 52,
        done: 48,
        failed: 4,
        pending: 0,
        complete: true,
        status: "completed_with_errors",
      });
    });

    it("writes both thumbnails of every good image, within the bounds and as JPEG", async () => {
      // Assess
      const keys = await listKeys(
        stack.emulator.clients.s3,
        stack.emulator.resources.thumbnailBucket,
        `${orderId}/`,
      );
      expect(keys).toHaveLength(48 * 2);
      for (const name of goodNames.slice(0, 10)) {
        const large = await thumb(name, "large");
        const small = await thumb(name, "small");
        const l = await sharp(large.data).metadata();
        const s = await sharp(small.data).metadata();
        expect(large.contentType).toBe("image/jpeg");
        expect(l.format).toBe("jpeg");
        expect(Math.max(l.width, l.height)).toBeLessThanOrEqual(1024);
        expect(Math.max(s.width, s.height)).toBe(256);
        expect(l.exif).toBeUndefined();
        expect(l.orientation).toBeUndefined();
      }
    });

    it("applies EXIF orientation: the stored landscape shows as a portrait, red on top", async () => {
      // Assess
      const large = await thumb("oriented.jpg", "large");
      const small = await thumb("oriented.jpg", "small");
      expect(await displayedSize(large.data)).toEqual({ width: 600, height: 800 });
      expect(await displayedSize(small.data)).toEqual({ width: 192, height: 256 });
      const [r1, , b1] = await meanColour(large.data, { left: 0, top: 0, width: 600, height: 300 });
      const [r2, , b2] = await meanColour(large.data, { left: 0, top: 500, width: 600, height: 300 });
      expect(r1).toBeGreaterThan(200);
      expect(b1).toBeLessThan(50);
      expect(b2).toBeGreaterThan(200);
      expect(r2).toBeLessThan(50);
    });

    it("records exactly the four broken images, each once, with the right class and advice", async () => {
      // Assess
      const page = await stack.ledger.listErrors(orderId, { offset: 0, limit: 100 });
      expect(page.total).toBe(4);
      const byKey = new Map(page.records.map((r) => [r.key, r]));
      expect(new Map([...byKey].map(([k, r]) => [k, r.class]))).toEqual(expectedFailures);
      for (const record of page.records) {
        expect(record.message).not.toMatch(/\n|\/home|\/var\/task|at .*\.js:/);
        expect(record.advice.length).toBeGreaterThan(10);
      }
    });

    it("publishes at most 10 slices per PublishBatch call", () => {
      // Assess
      const ours = batches.filter((batch) =>
        batch.some((e) => (JSON.parse(e.Message!) as SliceMessage).orderId === orderId),
      );
      expect(ours.flat()).toHaveLength(7); // 52 images in slices of 8
      for (const batch of ours) expect(batch.length).toBeLessThanOrEqual(10);
    });

    it("signals completion exactly once, and tells the backend on the order-events topic", async () => {
      // Assess
      const signals = (await stack.ledger.completions()).filter((c) => c.orderId === orderId);
      expect(signals).toEqual([{ orderId, total: 52, done: 48, failed: 4 }]);
      const event = await stack.orderEvents.waitFor(orderId);
      expect(event).toEqual({
        type: "order-thumbnails-completed",
        orderId,
        status: "completed_with_errors",
        total: 52,
        done: 48,
        failed: 4,
        completedAt: (await stack.ledger.getProgress(orderId)).completedAt,
        revision: 0,
      });
      expect(eventsOf(orderId)).toHaveLength(1);
    });
  });

  it("changes nothing when every slice is delivered again, or the order event comes twice", async () => {
    // Prepare: an order of its own (13 photos, 3 broken files, 1 missing key), processed once.
    const photos = await samplePhotos(13, { seed: "replay", megapixels: 0.15 });
    const { orderId, slices } = await runOrder("replay", photos);
    const before = reportsOf(orderId).length;

    // Act: SNS delivers at least once — replay every slice, then the order-completed event itself (the
    // coordinator publishes the order's slices again, in case an earlier run died before it had). One
    // after the other, so that no slice runs twice at once (that case is in faults.test.ts).
    for (const slice of [...slices].reverse()) await deliver(slice);
    await expect.poll(() => reportsOf(orderId).length - before, { timeout: 60_000 }).toBe(slices.length);
    const replan = await stack
      .emitOrderCompleted({
        orderId,
        bucket: stack.emulator.resources.sourceBucket,
        keys: slices.flatMap((s) => s.items.map((i) => i.key)).sort(),
      })
      .catch((error: Error) => error);
    await expect.poll(() => reportsOf(orderId).length - before, { timeout: 60_000 }).toBe(slices.length * 2);
    await orderEventsDrained();

    // Assess: every delivery after the first skipped the 13 done images and counted nothing new.
    const replays = reportsOf(orderId).slice(before);
    expect(slices).toHaveLength(3); // 17 images in slices of 8
    expect(replan).toMatchObject({ total: 17, slices: 3, created: false, announced: false });
    expect(replays.reduce((n, r) => n + r.skipped, 0)).toBe(13 * 2);
    expect(replays.every((r) => r.done === 0 && !r.completedOrder && !r.announcedOrder)).toBe(true);
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({ total: 17, done: 13, failed: 4 });
    expect((await stack.ledger.listErrors(orderId, { offset: 0, limit: 100 })).total).toBe(4);
    expect((await stack.ledger.completions()).filter((c) => c.orderId === orderId)).toHaveLength(1);
    // Nor is the backend told twice: every event published by now has reached it.
    expect(eventsOf(orderId)).toHaveLength(1);
  });

  it("moves a fixed image from failed to done when its slice is delivered again", async () => {
    // Prepare: an order of its own (5 photos, 3 broken files, 1 missing key), processed once; then the
    // backend re-uploads the missing original.
    const { orderId, missingKey, slices } = await runOrder(
      "fix",
      await samplePhotos(5, { seed: "fix-order", megapixels: 0.15 }),
    );
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({ total: 9, done: 5, failed: 4 });
    const [photo] = await samplePhotos(1, { seed: "fix", megapixels: 0.2 });
    await stack.emulator.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.emulator.resources.sourceBucket,
        Key: missingKey,
        Body: photo!.data,
      }),
    );
    const slice = slices.find((s) => s.items.some((i) => i.key === missingKey))!;

    // Act
    await deliver(slice);

    // Assess
    await expect
      .poll(async () => (await stack.ledger.getProgress(orderId)).failed, { timeout: 30_000 })
      .toBe(3);
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({
      total: 9,
      done: 6,
      failed: 3,
      complete: true,
    });
    const errors = await stack.ledger.listErrors(orderId, { offset: 0, limit: 100 });
    expect(errors.records.map((r) => r.key)).not.toContain(missingKey);
    expect((await stack.ledger.completions()).filter((c) => c.orderId === orderId)).toHaveLength(1);
    // The backend hears the new counts once, as an update of the completed order.
    await expect
      .poll(() => eventsOf(orderId).map((e) => [e.type, e.done, e.failed]))
      .toEqual([
        ["order-thumbnails-completed", 5, 4],
        ["order-thumbnails-updated", 6, 3],
      ]);
  });
});
