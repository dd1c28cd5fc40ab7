import { Readable } from "node:stream";
import { DEFAULT_OUTPUT, type OrderLedger, type PlannedOrder, type SliceMessage } from "@thumbs/core";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import type { WorkerConfig } from "../src/config.js";
import { runLanes } from "../src/lanes.js";
import type { WorkerDeps } from "../src/resize-slice.js";
import type { S3Objects } from "../src/s3-objects.js";

const ITEMS = Array.from({ length: 9 }, (_, index) => ({ index, key: `in/photo-${index}.jpg` }));
const slice: SliceMessage = { version: 2, orderId: "o1", sliceIndex: 0, items: ITEMS, attempt: 0 };
const order: PlannedOrder = {
  total: ITEMS.length,
  bucket: "originals",
  output: DEFAULT_OUTPUT,
  prefix: "in/",
  slices: 1,
  identity: "test",
};
const config = {
  thumbnailBucket: "thumbs",
  thumbnailPrefix: "",
  maxInputBytes: 10_000_000,
  maxInputPixels: 10_000_000,
  imageTimeoutSeconds: 30,
  handbackMarginMs: 1_000,
  maxTransientRetries: 3,
} as unknown as WorkerConfig;

/**
 * Stand-ins for S3 and the ledger that count the originals a worker holds: from the start of an
 * image's GET until its first thumbnail is stored (by then its resize has finished).
 */
function stand(
  jpeg: Buffer,
  recordDone: OrderLedger["recordDone"] = async () => ({ counted: true, completed: false }),
) {
  const held = { now: 0, max: 0 };
  const stored = new Set<string>();
  const s3 = {
    get: async () => {
      held.now += 1;
      held.max = Math.max(held.max, held.now);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { body: Readable.from([jpeg]), contentLength: jpeg.length };
    },
    put: async (_bucket: string, key: string) => {
      const source = key.replace(/^.*\/(photo-\d+)\..*$/, "$1");
      if (!stored.has(source)) held.now -= 1;
      stored.add(source);
    },
  } as unknown as S3Objects;
  const recorded: number[] = [];
  const ledger = {
    startImage: async () => 1,
    recordDone: async (orderId: string, index: number) => {
      recorded.push(index);
      return recordDone(orderId, index);
    },
    recordFailed: async () => ({ counted: true, completed: false }),
    releaseImages: async () => undefined,
  } as unknown as OrderLedger;
  const deps = { s3, ledger, config, concurrency: 2, owner: "test" } as unknown as WorkerDeps;
  return { deps, held, recorded };
}

describe("runLanes", () => {
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#6a8" } })
      .jpeg()
      .toBuffer();
  });

  it("records every image, in slice order, fetching ahead no more than one original per lane", async () => {
    // Prepare
    const { deps, held, recorded } = stand(jpeg);

    // Act
    const processed = await runLanes(deps, slice, order, ITEMS, { started: 0 });

    // Assess: 2 lanes hold at most 4 originals (2 resizing, 2 fetched ahead), and do fetch ahead.
    expect(processed.map((p) => [p.outcome.index, p.outcome.status])).toEqual(
      ITEMS.map((i) => [i.index, "done"]),
    );
    expect(recorded.sort((a, b) => a - b)).toEqual(ITEMS.map((i) => i.index));
    expect(held.max).toBeGreaterThan(2);
    expect(held.max).toBeLessThanOrEqual(4);
  });

  it("fails when an outcome cannot be recorded, so the slice is redelivered", async () => {
    // Prepare
    const { deps } = stand(jpeg, async () => {
      throw new Error("Redis is down");
    });

    // Act
    const outcome = runLanes(deps, slice, order, ITEMS, { started: 0 });

    // Assess
    await expect(outcome).rejects.toThrow("Redis is down");
  });
});
