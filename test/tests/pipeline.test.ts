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
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturePublishBatches } from "./helpers/capture.js";
import { displayedSize, meanColour } from "./helpers/images.js";
import { slicesReported, testStack, uniqueOrderId } from "./helpers/stack.js";

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

describe("the pipeline, end to end (keys listing, 52 images of which 4 broken)", () => {
  let stack: LocalStack;
  let batches: ReturnType<typeof capturePublishBatches>;
  const orderId = uniqueOrderId("e2e");
  const prefix = `orders/${orderId}/`;
  const goodNames: string[] = [];
  const expectedFailures = new Map<string, string>();

  beforeAll(async () => {
    // Prepare
    stack = await testStack({ sliceSize: 8 });
    batches = capturePublishBatches(stack.emulator.clients.sns);
    const photos = await samplePhotos(47, { seed: "e2e", megapixels: 0.3 });
    const uploads = [...photos, { name: "oriented.jpg", data: await orientedImage() }];
    goodNames.push(...uploads.map((u) => u.name));
    const broken = await brokenSamples();
    for (const b of broken) expectedFailures.set(`${prefix}${b.name}`, b.expectedClass);
    const missing = `${prefix}missing.jpg`;
    expectedFailures.set(missing, "NotFound");
    const keys = await uploadOrder(stack.emulator.clients.s3, stack.emulator.resources.sourceBucket, prefix, [
      ...uploads,
      ...broken,
    ]);

    // Act
    await stack.emitOrderCompleted({
      orderId,
      bucket: stack.emulator.resources.sourceBucket,
      keys: [...keys, missing],
    });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 90_000 });
    await slicesReported(stack, 7);
  });
  afterAll(() => stack?.stop());

  const thumb = async (name: string, size: string) => {
    const key = thumbnailKey({ prefix: "", orderId, size, sourceKey: `${prefix}${name}`, format: "jpeg" });
    const object = await stack.emulator.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.emulator.resources.thumbnailBucket, Key: key }),
    );
    return { data: Buffer.from(await object.Body!.transformToByteArray()), contentType: object.ContentType };
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
    expect(batches.flat()).toHaveLength(7); // 52 images in slices of 8
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(10);
  });

  it("signals completion exactly once, and tells the backend on the order-events topic", async () => {
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
    expect(stack.orderEvents.events.filter((e) => e.orderId === orderId)).toHaveLength(1);
  });

  it("changes nothing when every slice is delivered again, or the order event comes twice", async () => {
    // Prepare
    const slices = batches.flat().map((e) => JSON.parse(e.Message!) as SliceMessage);
    const before = stack.workers.events.length;

    // Act: SNS delivers at least once — replay every slice, then the order-completed event itself.
    for (const slice of slices.reverse()) {
      await stack.emulator.clients.sns.send(
        new PublishCommand({ TopicArn: stack.emulator.topicArn, Message: JSON.stringify(slice) }),
      );
    }
    await expect
      .poll(() => stack.workers.events.slice(before).filter((e) => e.type === "slices").length, {
        timeout: 60_000,
      })
      .toBe(slices.length);
    const replan = await stack
      .emitOrderCompleted({
        orderId,
        bucket: stack.emulator.resources.sourceBucket,
        keys: slices.flatMap((s) => s.items.map((i) => i.key)).sort(),
      })
      .catch((error: Error) => error);

    // Assess
    const replays = stack.workers.events.slice(before).flatMap((e) => (e.type === "slices" ? e.reports : []));
    expect(replays.reduce((n, r) => n + r.skipped, 0)).toBe(48);
    expect(replays.every((r) => !r.completedOrder)).toBe(true);
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({ total: 52, done: 48, failed: 4 });
    expect((await stack.ledger.listErrors(orderId, { offset: 0, limit: 100 })).total).toBe(4);
    expect((await stack.ledger.completions()).filter((c) => c.orderId === orderId)).toHaveLength(1);
    expect(replan).toMatchObject({ total: 52, created: false });
    // Nor is the backend told twice: give a second event time to arrive, then count.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stack.orderEvents.events.filter((e) => e.orderId === orderId)).toHaveLength(1);
  });

  it("moves a fixed image from failed to done when its slice is delivered again", async () => {
    // Prepare: the backend re-uploads the missing original.
    const missingKey = `${prefix}missing.jpg`;
    const [photo] = await samplePhotos(1, { seed: "fix", megapixels: 0.2 });
    await stack.emulator.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.emulator.resources.sourceBucket,
        Key: missingKey,
        Body: photo!.data,
      }),
    );
    const slice = batches
      .flat()
      .map((e) => JSON.parse(e.Message!) as SliceMessage)
      .find((s) => s.items.some((i) => i.key === missingKey))!;

    // Act
    await stack.emulator.clients.sns.send(
      new PublishCommand({ TopicArn: stack.emulator.topicArn, Message: JSON.stringify(slice) }),
    );

    // Assess
    await expect
      .poll(async () => JSON.stringify(await stack.ledger.getProgress(orderId)), { timeout: 30_000 })
      .toContain('"failed":3');
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({
      total: 52,
      done: 49,
      failed: 3,
      complete: true,
    });
    const errors = await stack.ledger.listErrors(orderId, { offset: 0, limit: 100 });
    expect(errors.records.map((r) => r.key)).not.toContain(missingKey);
    expect((await stack.ledger.completions()).filter((c) => c.orderId === orderId)).toHaveLength(1);
    // The backend hears the new counts once, as an update of the completed order.
    await expect
      .poll(() =>
        stack.orderEvents.events.filter((e) => e.orderId === orderId).map((e) => [e.type, e.done, e.failed]),
      )
      .toEqual([
        ["order-thumbnails-completed", 48, 4],
        ["order-thumbnails-updated", 49, 3],
      ]);
  });
});
