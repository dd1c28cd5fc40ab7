import { type OrderLedger, OrderNotFoundError } from "@thumbs/core";
import { describe, expect, it } from "vitest";
import { type ApiRequest, createAdminApi } from "../src/api.js";
import { testConfig } from "./helpers/factories.js";

/** Routing and validation only; the integration suite runs the API against a real Redis. */
const ledger = {
  getProgress: async (id: string) => {
    if (id !== "known") throw new OrderNotFoundError(id);
    return { orderId: id, total: 1 };
  },
  listErrors: async () => ({ records: [], total: 0, offset: 0, limit: 50 }),
  recentOrderIds: async () => [],
} as unknown as OrderLedger;
const config = (apiToken: string | undefined) => testConfig({ apiToken });
const api = createAdminApi({ ledger, s3: {} as never, sns: {} as never, config: config(undefined) });
const TOKEN = "a-token-for-the-core-0123";
const guarded = createAdminApi({ ledger, s3: {} as never, sns: {} as never, config: config(TOKEN) });
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
    ["GET", "/orders/a%zz", 400],
    ["GET", "/orders/%E0%A4%A/errors", 400],
    ["GET", "/orders/known/images/small/%", 400],
    ["POST", "/orders/known/errors/0x3/dismiss", 400],
  ])("%s %s → %i", async (method, path, status) => {
    expect((await api(request(method, path))).status).toBe(status);
  });

  it("explains bad pagination", async () => {
    // Act
    const response = await api(request("GET", "/orders/known/errors", { offset: "-1" }));

    // Assess
    expect(response.status).toBe(400);
    expect(JSON.parse(String(response.body)).error).toMatch(/offset: .*>=\s?0/);
  });

  it("never caches answers", async () => {
    expect((await api(request("GET", "/orders/known"))).headers["cache-control"]).toBe("no-store");
  });
});

describe("admin API request bodies", () => {
  it("reads the body only for an authorized request to a route that takes one", async () => {
    // Prepare
    const reads: string[] = [];
    const withBody = (path: string, authorization?: string): ApiRequest => ({
      ...request("POST", path),
      headers: { authorization },
      body: async () => {
        reads.push(path);
        return "{nope";
      },
    });

    // Act
    const statuses = [
      (await guarded(withBody("/orders/known/retry"))).status,
      (await guarded(withBody("/orders/known/retry", "Bearer not-the-token-0000000"))).status,
      (await guarded(withBody("/orders/known/nowhere", `Bearer ${TOKEN}`))).status,
      (await guarded(withBody("/orders/known/retry", `Bearer ${TOKEN}`))).status,
    ];

    // Assess
    expect(statuses).toEqual([401, 401, 404, 400]);
    expect(reads).toEqual(["/orders/known/retry"]);
  });

  it("answers 413 naming the limit to a body over 1 MiB that arrived whole (Lambda)", async () => {
    // Act
    const response = await api({
      ...request("POST", "/orders/known/retry"),
      body: " ".repeat(1024 * 1024 + 1),
    });

    // Assess
    expect(response.status).toBe(413);
    expect(JSON.parse(String(response.body)).error).toMatch(/1 MiB \(1048576 bytes\)/);
  });
});
