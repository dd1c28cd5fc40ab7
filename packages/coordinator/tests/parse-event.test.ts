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
    expect(parseOrderEvent({ "detail-type": "order-completed", source: "shop", detail }, config)).toEqual(
      detail,
    );
    expect(parseOrderEvent(detail, config)).toEqual(detail);
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
    const event = { orderId: "o", bucket: "originals", keys: ["a", "b", "c", "d"] };
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
