import { type OrderLedger, OrderNotFoundError } from "@thumbs/core";
import { describe, expect, it } from "vitest";
import { type ApiRequest, createAdminApi } from "../src/api.js";

/** Routing and validation only; the integration suite runs the API against a real Redis. */
const ledger = {
  getProgress: async (id: string) => {
    if (id !== "known") throw new OrderNotFoundError(id);
    return { orderId: id, total: 1 };
  },
  listErrors: async () => ({ records: [], total: 0, offset: 0, limit: 50 }),
  recentOrderIds: async () => [],
} as unknown as OrderLedger;
const api = createAdminApi({
  ledger,
  s3: {} as never,
  sns: {} as never,
  config: {
    apiToken: undefined,
    sliceTopicArn: "arn:aws:sns:us-east-1:000000000000:slices",
    sliceSize: 25,
    thumbnailBucket: "thumbs",
    thumbnailPrefix: "",
    maxInputBytes: 1e6,
    maxInputPixels: 1e6,
    imageTimeoutSeconds: 5,
  },
});
const request = (method: string, path: string, query: Record<string, string> = {}): ApiRequest => ({
  method,
  path,
  query,
  headers: {},
});

describe("admin API routing", () => {
  it.each([
    ["GET", "/health", 200],
    ["GET", "/orders/known", 200],
    ["GET", "/orders/known/errors", 200],
    ["GET", "/orders/unknown", 404],
    ["GET", "/orders/known/thumbnails/x/y", 404],
    ["GET", "/orders/known/retry", 405],
    ["POST", "/orders/known/errors", 405],
    ["GET", "/elsewhere", 404],
    ["DELETE", "/orders/known", 405],
  ])("%s %s → %i", async (method, path, status) => {
    expect((await api(request(method, path))).status).toBe(status);
  });

  it("explains bad pagination", async () => {
    const response = await api(request("GET", "/orders/known/errors", { offset: "-1" }));
    expect(response.status).toBe(400);
    expect(JSON.parse(String(response.body)).error).toMatch(/offset: .*>=\s?0/);
  });

  it("never caches answers", async () => {
    expect((await api(request("GET", "/orders/known"))).headers["cache-control"]).toBe("no-store");
  });
});
