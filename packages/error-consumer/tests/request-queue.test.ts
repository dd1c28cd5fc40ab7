import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  backoffMs,
  createRequestQueue,
  DEFAULTS,
  parseRetryAfter,
  QueueCleared,
} from "../dashboard/request-queue.js";

/** The dashboard's queue, in Node with fake timers: what it sends, when, and how often. */
const reply = (status: number, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
});

describe("the dashboard's request queue", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps at most six requests in flight and sends each once when all succeed", async () => {
    // Prepare: 40 requests that each take 100 ms.
    const queue = createRequestQueue();
    let inFlight = 0;
    let most = 0;
    const send = async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 100));
      inFlight -= 1;
      return reply(200);
    };

    // Act
    const all = Promise.all(Array.from({ length: 40 }, () => queue.run(send)));
    await vi.runAllTimersAsync();
    const results = await all;

    // Assess
    expect(most).toBe(6);
    expect(results.every((r) => r.response.status === 200 && r.attempts === 1)).toBe(true);
    expect(queue.stats).toMatchObject({ sent: 40, retried: 0 });
  });

  it("retries a 429 after its Retry-After, and meanwhile sends nothing else", async () => {
    // Prepare: the first request is throttled once with Retry-After: 2.
    const queue = createRequestQueue();
    const sentAt: Array<[string, number]> = [];
    let throttled = false;
    const send = (name: string) => async () => {
      sentAt.push([name, Date.now()]);
      if (name === "a" && !throttled) {
        throttled = true;
        return reply(429, { "retry-after": "2" });
      }
      return reply(200);
    };

    // Act: "a" is throttled; "b" is queued just after.
    const a = queue.run(send("a"));
    await vi.advanceTimersByTimeAsync(0);
    const b = queue.run(send("b"));
    await vi.runAllTimersAsync();

    // Assess: both sent 2 s after the 429, the retry first; "a" took two attempts.
    const start = new Date("2026-01-01T00:00:00Z").getTime();
    expect(sentAt).toEqual([
      ["a", start],
      ["a", start + 2000],
      ["b", start + 2000],
    ]);
    expect((await a).attempts).toBe(2);
    expect((await b).attempts).toBe(1);
  });

  it("gives up after a bounded number of attempts, backing off exponentially with jitter", async () => {
    // Prepare: always unavailable; the jitter draws its maximum, so the delays are the ceilings.
    const queue = createRequestQueue({ random: () => 1 });
    const sentAt: number[] = [];
    const send = async () => {
      sentAt.push(Date.now());
      return reply(503);
    };

    // Act
    const result = queue.run(send);
    await vi.runAllTimersAsync();

    // Assess: the last 503 is returned for the page to show, after maxAttempts sends.
    expect(await result).toMatchObject({ response: { status: 503 }, attempts: DEFAULTS.maxAttempts });
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]!);
    expect(gaps).toEqual([400, 800, 1600, 3200, 6400]);
    expect(queue.stats.gaveUp).toBe(1);
  });

  it("returns other answers at once, and retries network errors before throwing the last", async () => {
    // Prepare
    const queue = createRequestQueue({ maxAttempts: 3 });

    // Act: a 404, and a request that never reaches the network.
    const notFound = queue.run(async () => reply(404));
    let calls = 0;
    const offline = queue.run(async () => {
      calls += 1;
      throw new TypeError("Failed to fetch");
    });
    offline.catch(() => {});
    await vi.runAllTimersAsync();

    // Assess
    expect(await notFound).toMatchObject({ response: { status: 404 }, attempts: 1 });
    await expect(offline).rejects.toThrow("Failed to fetch");
    expect(calls).toBe(3);
  });

  it("sends unlimited requests past the slot limit, and clear() drops what has not been sent", async () => {
    // Prepare: one slot, held by a request that answers when released.
    const queue = createRequestQueue({ concurrency: 1 });
    let release: () => void = () => {};
    const slow = queue.run(
      () => new Promise<ReturnType<typeof reply>>((resolve) => (release = () => resolve(reply(200)))),
    );

    // Act + Assess: an unlimited request goes out past the held slot; a limited one waits for it.
    const waiting = queue.run(async () => reply(200));
    const unlimited = queue.run(async () => reply(200), { unlimited: true });
    await vi.advanceTimersByTimeAsync(0);
    expect((await unlimited).attempts).toBe(1);

    // Act + Assess: clear() drops the waiting one; the one in flight still answers.
    queue.clear();
    await expect(waiting).rejects.toBeInstanceOf(QueueCleared);
    release();
    expect((await slow).response.status).toBe(200);
  });
});

describe("Retry-After and backoff", () => {
  it("reads seconds and HTTP dates, and ignores what it cannot read", () => {
    // Prepare
    const now = Date.parse("2026-01-01T00:00:00Z");

    // Act + Assess: seconds, a date ahead, a date past, none, and words.
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("draws a full-jitter delay under a capped exponential ceiling", () => {
    // Act + Assess: the ceiling at attempts 1, 3 and 30 (capped), then the draws below it.
    expect(backoffMs(1, {}, () => 1)).toBe(DEFAULTS.baseDelayMs);
    expect(backoffMs(3, {}, () => 1)).toBe(4 * DEFAULTS.baseDelayMs);
    expect(backoffMs(30, {}, () => 1)).toBe(DEFAULTS.maxDelayMs);
    expect(backoffMs(3, {}, () => 0)).toBe(0);
    expect(backoffMs(3, {}, () => 0.5)).toBe(2 * DEFAULTS.baseDelayMs);
  });
});
