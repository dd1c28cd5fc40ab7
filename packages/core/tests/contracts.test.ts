import { describe, expect, it } from "vitest";
import { OrderCompletedSchema, SliceMessageSchema } from "../src/contracts.js";
import { ContractError } from "../src/errors.js";
import { parseContract } from "../src/validate.js";

describe("the order-completed contract", () => {
  it("accepts a prefix or a key list with optional output overrides", () => {
    // Act + Assess: a prefix, then a key list with every output override.
    expect(
      OrderCompletedSchema.parse({ orderId: "o-1", bucket: "my-bucket", prefix: "orders/o-1/" }),
    ).toBeTruthy();
    expect(
      OrderCompletedSchema.parse({
        orderId: "o-1",
        bucket: "my-bucket",
        keys: ["a.jpg"],
        sizes: [{ name: "hero", width: 2048, height: 2048 }],
        format: "webp",
        quality: 70,
      }).format,
    ).toBe("webp");
  });

  it.each([
    [{ orderId: "o", bucket: "my-bucket" }, /exactly one of `prefix`, `keys` or `manifest`/],
    [{ orderId: "o", bucket: "my-bucket", prefix: "p/", keys: ["a"] }, /exactly one/],
    [{ orderId: "../x", bucket: "my-bucket", prefix: "p/" }, /orderId: expected 1-128 characters/],
    [{ orderId: "o", bucket: "My_Bucket", prefix: "p/" }, /bucket: expected an S3 bucket name/],
    [{ orderId: "o", bucket: "my-bucket", keys: ["x".repeat(1025)] }, /at most 1024 UTF-8 bytes/],
    [{ orderId: "o", bucket: "my-bucket", prefix: "p/", extra: 1 }, /Unrecognized key/i],
    // `orders/A-1` would also take in `orders/A-10/…`: another order's images.
    [{ orderId: "o", bucket: "my-bucket", prefix: "orders/A-1" }, /prefix ending in `\/`/],
    [
      {
        orderId: "o",
        bucket: "my-bucket",
        prefix: "p/",
        sizes: [
          { name: "a", width: 1, height: 1 },
          { name: "a", width: 2, height: 2 },
        ],
      },
      /unique size names/,
    ],
  ])("rejects %j, saying what was expected", (input, message) => {
    // Act + Assess
    expect(() => parseContract(OrderCompletedSchema, input, "order-completed event")).toThrow(ContractError);
    expect(() => parseContract(OrderCompletedSchema, input, "order-completed event")).toThrow(message);
  });
});

describe("the slice contract", () => {
  const base = {
    version: 2,
    orderId: "o",
    sliceIndex: 0,
    items: [{ index: 0, key: "Photos/IMG 0001 É.JPG" }],
  };

  it("accepts planned images named by index and key", () => {
    expect(SliceMessageSchema.safeParse(base).success).toBe(true);
  });

  it.each([
    [
      "a huge batch of images",
      { items: Array.from({ length: 1001 }, (_, index) => ({ index, key: `k${index}` })) },
    ],
    [
      "an image named twice",
      {
        items: [
          { index: 1, key: "a" },
          { index: 1, key: "b" },
        ],
      },
    ],
    ["a negative index", { items: [{ index: -1, key: "a" }] }],
    ["an index past any order", { items: [{ index: 10_000_000, key: "a" }] }],
    ["a key over S3's 1,024 bytes", { items: [{ index: 0, key: "é".repeat(513) }] }],
    ["an empty slice", { items: [] }],
    ["the old position-based shape", { version: 1, offset: 0, count: 1_000_000_000 }],
    ["unknown fields", { bucket: "other-bucket" }],
  ])("refuses %s", (_, change) => {
    expect(SliceMessageSchema.safeParse({ ...base, ...change }).success).toBe(false);
  });
});
