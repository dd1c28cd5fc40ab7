import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DEFAULT_SIZES, thumbnailKey } from "@thumbs/core";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { awaitOrder } from "../src/await-order.js";
import { cameraPhoto, cameraPhotoSpec } from "../src/camera-photos.js";
import { type Emulator, startEmulator } from "../src/emulator.js";
import { listKeys, uploadEach, uploadOrder } from "../src/order-io.js";
import { samplePhotos, seededBytes } from "../src/sample-images.js";
import { type LocalStack, startLocalStack } from "../src/stack.js";
import { EMULATOR_MAX_REQUEST_BYTES } from "../src/upload-errors.js";
import { emit, uniqueOrderId, useRedis } from "./helpers/stack.js";

const redis = useRedis();
const MiB = 1024 * 1024;

async function objectBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

describe("camera-size originals in the local runtime", () => {
  let stack: LocalStack | undefined;
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await stack?.stop();
    await emulator?.stop();
    stack = undefined;
    emulator = undefined;
  });

  it("a JPEG and a PNG over the emulator's 11 MiB request limit are uploaded, downloaded by a worker and resized", async () => {
    // Prepare: a 24 MP camera JPEG and an 8 MP PNG export, both over 11 MiB, and one small photo.
    stack = await startLocalStack({ workers: 1, redis: redis() });
    const { s3 } = stack.emulator.clients;
    const { sourceBucket, thumbnailBucket } = stack.emulator.resources;
    const orderId = uniqueOrderId("camera-size");
    const [jpeg, png] = await Promise.all([cameraPhoto(1, orderId), cameraPhoto(2, orderId)]);
    const [small] = await samplePhotos(1, { seed: orderId, megapixels: 0.1 });
    const photos = [jpeg!, png!, small!];
    for (const [index, photo] of [jpeg!, png!].entries()) {
      const spec = cameraPhotoSpec(index + 1, orderId);
      expect(photo.data.length).toBeGreaterThan(EMULATOR_MAX_REQUEST_BYTES);
      expect(await sharp(photo.data).metadata()).toMatchObject({ format: spec.format, width: spec.width });
    }

    // Act
    const keys = await uploadOrder(s3, sourceBucket, `orders/${orderId}/`, photos);
    await emit(stack, orderId, keys);
    const progress = await awaitOrder(stack.ledger, orderId, { timeoutMs: 90_000 });

    // Assess: the originals are whole in S3, the order is done in Redis with no error record, and each
    // image has both thumbnails in S3, fitted to each box with the original's aspect ratio.
    for (const [i, photo] of photos.entries()) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: sourceBucket, Key: keys[i]! }));
      expect(head.ContentLength).toBe(photo.data.length);
    }
    expect(progress).toMatchObject({ total: 3, done: 3, failed: 0, complete: true });
    expect(await stack.ledger.failedRecords(orderId)).toEqual([]);
    for (const [i, photo] of photos.entries()) {
      const original = await sharp(photo.data).metadata();
      for (const size of DEFAULT_SIZES) {
        const key = thumbnailKey({
          prefix: "",
          orderId,
          size: size.name,
          sourceKey: keys[i]!,
          format: "jpeg",
        });
        const thumbnail = await sharp(await objectBytes(s3, thumbnailBucket, key)).metadata();
        expect(thumbnail.format).toBe("jpeg");
        // Thumbnails are never enlarged: the small photo keeps its own size in the large box.
        const longSide = Math.min(size.width, Math.max(original.width, original.height));
        expect(Math.max(thumbnail.width, thumbnail.height)).toBe(longSide);
        expect(thumbnail.width / thumbnail.height).toBeCloseTo(original.width / original.height, 1);
      }
    }
  }, 180_000);

  it("a file the emulator refuses is reported by name, size, limit and fix; the other files are uploaded", async () => {
    // Prepare: parts of 12 MiB make the emulator see one 11.5 MiB request, over its 11 MiB limit.
    emulator = await startEmulator();
    const { s3 } = emulator.clients;
    const bucket = emulator.resources.sourceBucket;
    const [small] = await samplePhotos(1, { seed: "refused", megapixels: 0.1 });
    const big = { name: "DSC 0042.jpeg", data: seededBytes("refused", 11.5 * MiB) };

    // Act
    const { keys, failures } = await uploadEach(s3, bucket, "orders/refused/", [big, small!], {
      partBytes: 12 * MiB,
    });

    // Assess
    expect(keys).toEqual([`orders/refused/${small!.name}`]);
    expect(await listKeys(s3, bucket, "orders/refused/")).toEqual(keys);
    expect(failures).toEqual([
      expect.objectContaining({
        name: "DSC 0042.jpeg",
        key: "orders/refused/DSC 0042.jpeg",
        bytes: 11.5 * MiB,
      }),
    ]);
    const message = failures[0]!.message;
    expect(message).toContain('"DSC 0042.jpeg" (11.5 MiB, 12058624 bytes)');
    expect(message).toContain("HTTP 413");
    expect(message).toContain("at most 11.0 MiB per request");
    expect(message).toContain(
      "use a part size from 5.0 MiB to 11.0 MiB (UploadOptions.partBytes, now 12.0 MiB; the default is 8.0 MiB)",
    );
    expect(message).not.toContain("XML parse error");
  });
});
