// The dashboard's request queue: at most `concurrency` requests in flight, retries with exponential
// backoff and full jitter on 429 (throttled) and 503 (unavailable, or a thumbnail that may succeed
// later), honouring Retry-After, a bounded number of attempts. Plain ES module with no DOM use, so
// the same file runs in the browser and in Node's tests.
//
// Why: through API Gateway (stage throttling: a token bucket) a page that fires a request per
// thumbnail at once gets 429 past the burst. Six in flight (a browser's own per-host connection limit
// over HTTP/1.1) keeps one dashboard well inside the burst, and when a 429 does come the whole queue
// pauses, since the bucket is shared by every request of the page.

/** Statuses worth another try: throttled, and unavailable (cold start, S3 slow, Lambda busy). */
export const RETRY_STATUSES = new Set([429, 503]);

export const DEFAULTS = {
  concurrency: 6,
  /** Attempts per request, the first included. */
  maxAttempts: 6,
  /** Backoff before attempt n+1: a random delay up to min(maxDelayMs, baseDelayMs × 2^(n-1)). */
  baseDelayMs: 400,
  maxDelayMs: 8_000,
  /** A Retry-After longer than this is cut to it: a page should not stall for minutes. */
  maxRetryAfterMs: 30_000,
};

/**
 * Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent or
 * unreadable.
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full jitter: uniformly random up to the exponential ceiling (AWS's recommended backoff). */
export function backoffMs(attempt, options = {}, random = Math.random) {
  const { baseDelayMs, maxDelayMs } = { ...DEFAULTS, ...options };
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/** Thrown to the callers of requests that were still waiting when the queue was cleared. */
export class QueueCleared extends Error {
  constructor() {
    super("request cancelled");
    this.name = "QueueCleared";
  }
}

/**
 * `run(send)` calls `send()` (which returns a fetch Response) when a slot is free, and again after a
 * pause while it answers 429 or 503 or fails on the network, up to `maxAttempts` in all. It resolves
 * with `{ response, attempts }`: the last response, successful or not, for the caller to show; it
 * rejects only when every attempt failed on the network (with that error) or the queue was cleared.
 * `run(send, { unlimited: true })` skips the slot limit (small JSON calls the page cannot do without)
 * but shares the retries and the pause.
 */
export function createRequestQueue(options = {}) {
  const settings = { ...DEFAULTS, ...options };
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));

  const waiting = [];
  /** Bumped by clear(): a request from before it is not sent again. */
  let generation = 0;
  let running = 0;
  let pausedUntil = 0;
  let wake;
  const stats = { sent: 0, retried: 0, throttled: 0, gaveUp: 0, maxInFlight: 0 };

  /**
   * Resolves when a request may send: a free slot (unless unlimited) and no pause in force. A retry
   * goes before first attempts, so a request that has waited longest is not overtaken again.
   */
  const slot = (unlimited, retry) =>
    new Promise((resolve, reject) => {
      const entry = { resolve, reject, unlimited };
      if (retry) waiting.unshift(entry);
      else waiting.push(entry);
      pump();
    });

  function pump() {
    const pause = pausedUntil - now();
    if (pause > 0) {
      if (!wake) {
        wake = sleep(pause).then(() => {
          wake = undefined;
          pump();
        });
      }
      return;
    }
    for (let i = 0; i < waiting.length; ) {
      const next = waiting[i];
      if (!next.unlimited && running >= settings.concurrency) {
        i += 1;
        continue;
      }
      waiting.splice(i, 1);
      if (!next.unlimited) running += 1;
      next.resolve();
    }
  }

  function release(unlimited) {
    if (!unlimited) running -= 1;
    pump();
  }

  async function run(send, { unlimited = false } = {}) {
    const mine = generation;
    for (let attempt = 1; ; attempt += 1) {
      if (mine !== generation) throw new QueueCleared();
      await slot(unlimited, attempt > 1);
      let response;
      let failure;
      stats.sent += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, running);
      try {
        response = await send();
      } catch (error) {
        failure = error;
      } finally {
        release(unlimited);
      }
      const retryable = failure !== undefined || RETRY_STATUSES.has(response.status);
      if (!retryable) return { response, attempts: attempt };
      if (attempt >= settings.maxAttempts) {
        stats.gaveUp += 1;
        if (failure !== undefined) throw failure;
        return { response, attempts: attempt };
      }
      const told = response ? parseRetryAfter(response.headers.get("retry-after"), now()) : undefined;
      const delay = Math.min(settings.maxRetryAfterMs, told ?? backoffMs(attempt, settings, random));
      stats.retried += 1;
      if (response?.status === 429) {
        // The gateway's bucket is shared by the whole page: nobody sends until it has refilled a little.
        stats.throttled += 1;
        pausedUntil = Math.max(pausedUntil, now() + delay);
        pump();
      } else {
        await sleep(delay);
      }
    }
  }

  /** Rejects every request not yet sent (e.g. the page navigated away); those in flight finish. */
  function clear() {
    generation += 1;
    for (const next of waiting.splice(0)) next.reject(new QueueCleared());
  }

  return { run, clear, stats, settings };
}
