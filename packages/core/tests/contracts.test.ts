import { describe, expect, it } from "vitest";
import { OrderCompletedSchema, SliceMessageSchema } from "../src/contracts.js";
import { ContractError } from "../src/errors.js";
import { parseContract } from "../src/validate.js";

describe("the order-completed contract", () => {
  it("accepts a prefix or a key list with optional output overrides", () => {
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
    [{ orderId: "o", bucket: "my-bucket" }, /exactly one of `prefix` or `keys`/],
    [{ orderId: "o", bucket: "my-bucket", prefix: "p/", keys: ["a"] }, /exactly one/],
    [{ orderId: "../x", bucket: "my-bucket", prefix: "p/" }, /orderId: expected 1-128 characters/],
    [{ orderId: "o", bucket: "My_Bucket", prefix: "p/" }, /bucket: expected an S3 bucket name/],
    [{ orderId: "o", bucket: "my-bucket", keys: ["x".repeat(1025)] }, /at most 1024 UTF-8 bytes/],
    [{ orderId: "o", bucket: "my-bucket", prefix: "p/", extra: 1 }, /Unrecognized key/i],
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
    expect(() => parseContract(OrderCompletedSchema, input, "order-completed event")).toThrow(ContractError);
    expect(() => parseContract(OrderCompletedSchema, input, "order-completed event")).toThrow(message);
  });
});

describe("the slice contract", () => {
  const base = {
    version: 1,
    orderId: "o",
    bucket: "my-bucket",
    sliceIndex: 0,
    offset: 0,
    output: { sizes: [{ name: "small", width: 256, height: 256 }], format: "jpeg", quality: 80 },
  };

  it("requires the count to match the keys it carries", () => {
    expect(
      SliceMessageSchema.safeParse({ ...base, count: 2, source: { kind: "keys", keys: ["a", "b"] } }).success,
    ).toBe(true);
    expect(
      SliceMessageSchema.safeParse({ ...base, count: 3, source: { kind: "keys", keys: ["a", "b"] } }).success,
    ).toBe(false);
  });

  it("accepts a key range", () => {
    const range = { kind: "range", prefix: "p/", startAfter: "p/a", lastKey: "p/z" };
    expect(SliceMessageSchema.safeParse({ ...base, count: 25, source: range }).success).toBe(true);
  });
});
