import type { OrderLedger } from "@thumbs/core";
import { describe, expect, it } from "vitest";
import type { AdminDeps } from "../src/deps.js";
import { thumbnailOnDemand } from "../src/thumbnails.js";
import { testConfig } from "./helpers/factories.js";

/** A planned order of one image; only what thumbnailOnDemand reads. */
const ledger = {
  requirePlannedOrder: async () => ({
    bucket: "originals",
    total: 1,
    output: { sizes: [{ name: "small", width: 256, height: 256 }], format: "jpeg", quality: 80 },
  }),
  plannedKeys: async () => [{ index: 0, key: "orders/A-1/IMG_0001.jpg" }],
  recordDone: async () => ({ completed: false, counted: true }),
} as unknown as OrderLedger;

const notFound = Object.assign(new Error("NoSuchKey"), {
  name: "NoSuchKey",
  $metadata: { httpStatusCode: 404 },
});

/** An S3 whose stored-thumbnail read says "no such key" and whose original read never answers. */
const stallingS3 = {
  client: { send: () => Promise.reject(notFound) },
  get: (_bucket: string, _key: string, signal?: AbortSignal) =>
    new Promise((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason));
    }),
};

const deps = (config: Partial<AdminDeps["config"]>): AdminDeps => ({
  ledger,
  s3: stallingS3 as never,
  sns: {} as never,
  config: testConfig({ imageTimeoutSeconds: 30, ...config }),
});

describe("a thumbnail made on demand", () => {
  it("answers a stalled S3 within its deadline with a classified 503 and Retry-After", async () => {
    // Act: the worker's 30 s image timeout, but a 1 s on-demand deadline (a hang fails the test at
    // vitest's 5 s).
    const response = await thumbnailOnDemand(deps({ onDemandTimeoutSeconds: 1 }), "A-1", "small", {
      index: "0",
    });

    // Assess: answered at the on-demand deadline, not the image timeout, with its class.
    expect(response.status).toBe(503);
    expect(response.headers["retry-after"]).toBe("5");
    expect(JSON.parse(String(response.body))).toMatchObject({
      class: "Transient",
      error: expect.stringMatching(/within the 1 s allowed/),
    });
  });

  it("uses the image timeout when that is shorter", async () => {
    // Act: a 1 s image timeout under a 20 s on-demand deadline (a hang fails the test at vitest's 5 s).
    const response = await thumbnailOnDemand(
      deps({ imageTimeoutSeconds: 1, onDemandTimeoutSeconds: 20 }),
      "A-1",
      "small",
      { index: "0" },
    );

    // Assess: the deadline named is the image's 1 s, not the 20 s.
    expect(response.status).toBe(503);
    expect(JSON.parse(String(response.body))).toMatchObject({
      error: expect.stringMatching(/within the 1 s allowed/),
    });
  });
});
