import { ContractError } from "@thumbs/core";
import { describe, expect, it } from "vitest";
import { loadCoordinatorConfig } from "../src/config.js";
import { BucketNotAllowedError } from "../src/errors.js";
import { parseOrderEvent } from "../src/parse-event.js";

const config = loadCoordinatorConfig({
  REDIS_URL: "redis://localhost:6379",
  SLICE_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:slices",
  ALLOWED_SOURCE_BUCKETS: "originals, other-originals",
  MAX_EVENT_KEYS: "3",
});
const detail = { orderId: "o-1", bucket: "originals", prefix: "orders/o-1/" };

describe("parseOrderEvent", () => {
  it("accepts an EventBridge envelope or the bare detail", () => {
    // Act + Assess: the envelope, then the detail alone.
    expect(parseOrderEvent({ "detail-type": "order-completed", source: "shop", detail }, config)).toEqual(
      detail,
    );
    expect(parseOrderEvent(detail, config)).toEqual(detail);
  });

  it("accepts a manifest in place of a prefix or keys, and exactly one of the three", () => {
    // Act + Assess: a manifest alone, then a manifest beside a prefix.
    expect(
      parseOrderEvent({ orderId: "o-1", bucket: "originals", manifest: "orders/o-1.keys" }, config),
    ).toMatchObject({
      manifest: "orders/o-1.keys",
    });
    expect(() => parseOrderEvent({ ...detail, manifest: "m.json" }, config)).toThrow(/exactly one of/);
  });

  it("refuses an event EventBridge could not carry, and says to send a manifest", () => {
    // Prepare: 300 keys of ~1 KB, as an order of 300 long camera paths would be.
    const keys = Array.from({ length: 300 }, (_, i) => `orders/o-1/${"Été ".repeat(180)}${i}.JPG`);

    // Act + Assess
    expect(() => parseOrderEvent({ orderId: "o-1", bucket: "originals", keys }, config)).toThrow(
      /is \d+ bytes; EventBridge accepts at most 262144.*"manifest"/,
    );
  });

  it("rejects another detail-type", () => {
    expect(() => parseOrderEvent({ "detail-type": "order-paid", detail }, config)).toThrow(
      /received "order-paid"/,
    );
  });

  it("rejects buckets outside the allowlist", () => {
    expect(() => parseOrderEvent({ ...detail, bucket: "someone-elses" }, config)).toThrow(
      BucketNotAllowedError,
    );
  });

  it("rejects oversized key lists, pointing to prefixes", () => {
    // Prepare: one key over MAX_EVENT_KEYS.
    const event = { orderId: "o", bucket: "originals", keys: ["a", "b", "c", "d"] };

    // Act + Assess
    expect(() => parseOrderEvent(event, config)).toThrow(ContractError);
    expect(() => parseOrderEvent(event, config)).toThrow(/at most 3 .*MAX_EVENT_KEYS.*prefix/);
  });
});

describe("loadCoordinatorConfig", () => {
  it("reads defaults and overrides", () => {
    expect(config).toMatchObject({
      sliceSize: 25,
      maxSlices: 1000,
      allowedSourceBuckets: ["originals", "other-originals"],
      defaultOutput: { format: "jpeg", quality: 80 },
    });
  });

  it("names the missing topic", () => {
    expect(() => loadCoordinatorConfig({ REDIS_URL: "redis://x" })).toThrow(/SLICE_TOPIC_ARN is required/);
  });
});
