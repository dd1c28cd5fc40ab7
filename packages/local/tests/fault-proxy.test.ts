import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../src/fault-proxy.js";

/** A GET through the proxy; resolves with the status, or with the error that ended it. */
function get(proxy: FaultProxy, path: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = request(`${proxy.endpoint}${path}`, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode }));
    });
    req.on("error", (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

describe("the fault proxy", () => {
  let upstream: Server;
  let proxy: FaultProxy | undefined;
  beforeEach(async () => {
    upstream = createServer((_, res) => res.end("ok"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await new Promise((resolve) => upstream.close(resolve));
  });
  const target = () => `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  it("holds a request whose decoded path matches stallOn until it closes, and passes the rest", async () => {
    // Prepare
    proxy = await startFaultProxy({ target: target(), stallOn: "STALL me" });
    const stalled = proxy;
    let outcome: { status?: number; error?: string } | undefined;

    // Act
    const held = get(stalled, "/bucket/orders/STALL%20me.jpg").then((o) => (outcome = o));
    await expect.poll(() => stalled.stats.stalled).toBe(1);
    const passed = await get(stalled, "/bucket/orders/fine.jpg");

    // Assess: still held after a later request went through; ended only by close().
    expect(passed).toEqual({ status: 200 });
    expect(outcome).toBeUndefined();
    await stalled.close();
    proxy = undefined;
    await held;
    expect(outcome?.status).toBeUndefined();
    expect(outcome?.error).toMatch(/ECONNRESET|socket hang up/);
    expect(stalled.stats).toEqual({ forwarded: 1, failed: 0, stalled: 1 });
  });

  it("takes new fault settings at run time", async () => {
    // Prepare
    proxy = await startFaultProxy({ target: target() });

    // Act
    const before = await get(proxy, "/bucket/a.jpg");
    proxy.configure({ s3FailureRate: 1 });
    const failing = await get(proxy, "/bucket/a.jpg");
    const listing = await get(proxy, "/bucket?list-type=2");
    proxy.configure({ s3FailureRate: 0, stallOn: "a.jpg" });
    proxy.configure({ stallOn: undefined });
    const after = await get(proxy, "/bucket/a.jpg");

    // Assess: only S3 object requests are failed; turning a setting off takes effect.
    expect([before, failing, listing, after]).toEqual([
      { status: 200 },
      { status: 503 },
      { status: 200 },
      { status: 200 },
    ]);
    expect(proxy.stats).toEqual({ forwarded: 3, failed: 1, stalled: 0 });
  });

  it("stalls a seeded fraction with s3StallRate", async () => {
    // Prepare
    proxy = await startFaultProxy({ target: target(), s3StallRate: 1 });
    const stalling = proxy;

    // Act
    const held = [get(stalling, "/bucket/a.jpg"), get(stalling, "/bucket/b.jpg")];
    await expect.poll(() => stalling.stats.stalled).toBe(2);
    await stalling.close();
    proxy = undefined;

    // Assess
    expect((await Promise.all(held)).every((o) => o.error !== undefined)).toBe(true);
  });

  it("throttles object requests beyond its rate with 503 SlowDown, listings untouched", async () => {
    // Prepare: a burst of 3 and a rate too slow to refill during the test.
    proxy = await startFaultProxy({ target: target(), s3RateLimit: { perSecond: 0.001, burst: 3 } });
    const throttling = proxy;

    // Act
    const objects = await Promise.all(
      Array.from({ length: 5 }, (_, i) => get(throttling, `/bucket/${i}.jpg`)),
    );
    const listing = await get(throttling, "/bucket?list-type=2");

    // Assess
    expect(objects.filter((o) => o.status === 200)).toHaveLength(3);
    expect(objects.filter((o) => o.status === 503)).toHaveLength(2);
    expect(listing).toEqual({ status: 200 });
    expect(throttling.stats).toEqual({ forwarded: 4, failed: 2, stalled: 0 });
  });
});
