import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { DEFAULT_OUTPUT, ImageFailure, OrderLedger } from "@thumbs/core";
import { createAdminApi, createHttpServer } from "@thumbs/error-consumer";
import { deleteKeys } from "@thumbs/local";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis } from "./helpers/stack.js";

describe("the admin API over node:http and a real Redis", () => {
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  const token = "local-admin-token-0123456789";
  let redis: Redis;
  let server: ReturnType<typeof createHttpServer>;
  let base: string;
  const get = (path: string, auth: string | null = `Bearer ${token}`) =>
    fetch(`${base}${path}`, auth ? { headers: { authorization: auth } } : {});
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below
  const body = async (response: Promise<Response> | Response): Promise<any> => (await response).json();

  beforeAll(async () => {
    // Prepare: one order with 3 images, two of them failed.
    redis = testRedis();
    const ledger = new OrderLedger(redis, { keyPrefix: prefix, ttlSeconds: 3600 });
    await ledger.initOrder({
      orderId: "order-1",
      total: 3,
      slices: 1,
      bucket: "b",
      source: "s",
      fingerprint: "f",
      output: DEFAULT_OUTPUT,
    });
    await ledger.recordDone("order-1", 0);
    await ledger.recordFailed("order-1", {
      index: 1,
      key: "a.jpg",
      sliceIndex: 0,
      failure: new ImageFailure("Corrupt", "truncated"),
    });
    await ledger.recordFailed("order-1", {
      index: 2,
      key: "b.heic",
      sliceIndex: 0,
      failure: new ImageFailure("Unsupported", "HEIC"),
    });
    server = createHttpServer(createAdminApi({ ledger, apiToken: token }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("serves an order's progress", async () => {
    const response = await get("/orders/order-1");
    expect(response.status).toBe(200);
    expect(await body(response)).toMatchObject({ total: 3, done: 1, failed: 2, complete: true });
  });

  it("serves error records newest first, paginated and filtered by class", async () => {
    const page = await body(get("/orders/order-1/errors?limit=1"));
    expect(page).toMatchObject({ total: 2, offset: 0, limit: 1 });
    expect(page.records).toHaveLength(1);
    const filtered = await body(get("/orders/order-1/errors?class=Unsupported"));
    expect(filtered.records.map((r: { key: string }) => r.key)).toEqual(["b.heic"]);
  });

  it("lists recent orders", async () => {
    const list = await body(get("/orders"));
    expect(list.orders.map((o: { orderId: string }) => o.orderId)).toEqual(["order-1"]);
  });

  it("answers 404 for an unknown order and 400 for bad parameters, saying what was expected", async () => {
    expect((await get("/orders/nope")).status).toBe(404);
    expect((await get("/orders/nope/errors")).status).toBe(404);
    const bad = await get("/orders/order-1/errors?limit=0&class=Weird");
    expect(bad.status).toBe(400);
    expect((await body(bad)).error).toMatch(/limit.*class|class.*limit/s);
    expect((await get("/orders/..%2Fetc")).status).toBe(400);
  });

  it("refuses anonymous requests and bad tokens", async () => {
    expect((await get("/orders/order-1", null)).status).toBe(401);
    expect((await get("/orders/order-1", "Bearer wrong-token-wrong-token-00")).status).toBe(401);
    expect((await get("/health", null)).status).toBe(200);
  });
});
