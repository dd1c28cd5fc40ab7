import { GetObjectCommand } from "@aws-sdk/client-s3";
import { type ErrorRecord, type OrderProgress, thumbnailKey } from "@thumbs/core";
import { awaitOrder, type LocalStack, listKeys, uploadOrder } from "@thumbs/local";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOSTILE_LIMITS, type HostileCase, hostileInputs } from "./helpers/hostile-inputs.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

/**
 * Issue 7, bad inputs: one order of hostile and odd originals through the real pipeline. Each must end
 * as two correct thumbnails or exactly one classified error record, without crashing or hanging a
 * worker and within a memory bound.
 */

const IMAGE_TIMEOUT_SECONDS = 10;
/**
 * Two images in flight per worker, the largest a 19 MP PNG read sequentially and a 6.5 MB metadata
 * flood: ~160 MB measured on the 2-core machine; the bound leaves room for allocator noise.
 */
const MAX_WORKER_RSS_BYTES = 600 * 1024 * 1024;

const orderId = uniqueOrderId("bad-input");
const prefix = `orders/${orderId}/`;
// Generated while the file is collected, so every case gets its own named test below.
const cases = await hostileInputs(prefix);
const thumbnailCases = cases.flatMap((c) => ("thumbnails" in c.expect ? [{ ...c, want: c.expect }] : []));
const failureCases = cases.flatMap((c) => ("class" in c.expect ? [{ ...c, want: c.expect }] : []));

describe(`bad inputs: ${cases.length} hostile or odd originals in one order`, () => {
  let stack: LocalStack;
  let progress: OrderProgress;
  let records: Map<string, ErrorRecord[]>;

  beforeAll(async () => {
    // Prepare
    stack = await testStack({
      sliceSize: 8,
      workerEnv: {
        IMAGE_TIMEOUT_SECONDS: String(IMAGE_TIMEOUT_SECONDS),
        MAX_INPUT_PIXELS: String(HOSTILE_LIMITS.maxInputPixels),
        MAX_INPUT_BYTES: String(HOSTILE_LIMITS.maxInputBytes),
      },
    });
    const { s3 } = stack.emulator.clients;
    const bucket = stack.emulator.resources.sourceBucket;
    const keys = await uploadOrder(
      s3,
      bucket,
      prefix,
      cases.map((c) => ({ name: c.key, data: c.data })),
    );

    // Act
    await stack.emitOrderCompleted({ orderId, bucket, keys });
    progress = await awaitOrder(stack.ledger, orderId, { timeoutMs: 90_000 });
    const page = await stack.ledger.listErrors(orderId, { offset: 0, limit: cases.length + 10 });
    records = new Map();
    for (const record of page.records) records.set(record.key, [...(records.get(record.key) ?? []), record]);
  });
  afterAll(() => stack?.stop());

  const thumbnail = async (c: HostileCase, size: string): Promise<Buffer> => {
    const key = thumbnailKey({ prefix: "", orderId, size, sourceKey: `${prefix}${c.key}`, format: "jpeg" });
    const object = await stack.emulator.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.emulator.resources.thumbnailBucket, Key: key }),
    );
    expect(object.ContentType).toBe("image/jpeg");
    return Buffer.from(await object.Body!.transformToByteArray());
  };

  it("has at least 30 cases, each with its own key", () => {
    // Assess: the cases themselves.
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.key)).size).toBe(cases.length);
  });

  it("accounts for every image: done + failed == total, split as the cases expect", () => {
    // Assess
    expect(progress).toMatchObject({
      total: cases.length,
      done: thumbnailCases.length,
      failed: failureCases.length,
      pending: 0,
      complete: true,
    });
  });

  it.each(thumbnailCases)("$name → two thumbnails", async (c) => {
    // Assess: what the order's run (beforeAll) stored for this case.
    const large = await thumbnail(c, "large");
    const small = await thumbnail(c, "small");
    for (const [data, [width, height]] of [
      [large, c.want.thumbnails.large],
      [small, c.want.thumbnails.small],
    ] as const) {
      const meta = await sharp(data).metadata();
      // Upright pixels in sRGB, 8-bit, no alpha, and nothing of the original's metadata.
      expect(meta).toMatchObject({
        format: "jpeg",
        width,
        height,
        space: "srgb",
        channels: 3,
        depth: "uchar",
      });
      expect(meta.orientation).toBeUndefined();
      expect(meta.exif).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
    }
    await c.want.thumbnails.check?.(large, small);
    expect(records.get(`${prefix}${c.key}`)).toBeUndefined();
  });

  it.each(failureCases)("$name → one $want.class record", (c) => {
    // Assess
    const found = records.get(`${prefix}${c.key}`) ?? [];
    expect(found.map((r) => r.class)).toEqual([c.want.class]);
    expect(found[0]!.message, JSON.stringify(found[0]!.message)).toMatch(c.want.message);
    expect(found[0]!.advice.length).toBeGreaterThan(10);
  });

  it("stores every error message as one line with no stack, path or credential", () => {
    // Assess
    const messages = [...records.values()].flat().map((r) => r.message);
    expect(messages).toHaveLength(failureCases.length);
    for (const message of messages) {
      expect(message).not.toMatch(/[\r\n]/);
      expect(message).not.toMatch(/\bat .*:\d+:\d+|\/home\/|\/var\/task|\/tmp\/|node_modules|\.node\b/);
      expect(message).not.toMatch(/AKIA|ASIA[A-Z0-9]{16}|password|secret|token|rediss?:\/\//i);
      expect(message.length).toBeLessThanOrEqual(500);
    }
  });

  it("writes only the expected thumbnails, all inside the order's folder with safe names", async () => {
    // Assess
    const stored = await listKeys(stack.emulator.clients.s3, stack.emulator.resources.thumbnailBucket, "");
    const expected = thumbnailCases.flatMap((c) =>
      ["large", "small"].map((size) =>
        thumbnailKey({ prefix: "", orderId, size, sourceKey: `${prefix}${c.key}`, format: "jpeg" }),
      ),
    );
    expect(stored.sort()).toEqual(expected.sort());
    for (const key of stored) {
      expect(key).toMatch(new RegExp(`^${orderId}/(large|small)/[A-Za-z0-9._-]+\\.jpg$`));
      expect(key).not.toContain("..");
    }
  });

  it("never crashes or hangs a worker, and keeps its memory bounded", () => {
    // Assess
    const events = stack.workers.events;
    expect(events.filter((e) => e.type === "slice-failed")).toEqual([]);
    expect(stack.workers.processes).toHaveLength(2);
    for (const child of stack.workers.processes)
      expect([child.exitCode, child.signalCode]).toEqual([null, null]);
    const slices = events.flatMap((e) => (e.type === "slices" ? [e] : []));
    const images = slices.flatMap((e) => e.reports.flatMap((r) => r.images));
    expect(images).toHaveLength(cases.length);
    // Fetch + decode + store of each image within its decode time limit: nothing waited on a hang.
    expect(Math.max(...images.map((i) => i.ms))).toBeLessThan(IMAGE_TIMEOUT_SECONDS * 1000);
    expect(Math.max(...slices.map((e) => e.rss))).toBeLessThan(MAX_WORKER_RSS_BYTES);
  });
});
