import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { seededBytes } from "./sample-images.js";

/** The faults the proxy injects into S3 object reads and writes; each can be changed at run time. */
export interface FaultSettings {
  /** Fraction (0-1) answered with 503 SlowDown instead (default 0). */
  s3FailureRate?: number;
  /** Fraction (0-1) accepted and never answered (default 0): see `stallOn`. */
  s3StallRate?: number;
  /**
   * Requests whose decoded path ("/bucket/key") contains this are accepted and never answered: the
   * socket stays open until the proxy closes, as with a hung S3 connection, so the worker's own
   * timeouts and deadlines are what end them.
   */
  stallOn?: string;
  /**
   * S3's request-rate throttling: object requests beyond `perSecond` (a token bucket holding up to
   * `burst`) are answered 503 SlowDown, so throttling follows the load the workers put on it, as it
   * does on a hot S3 prefix, rather than a fixed fraction.
   */
  s3RateLimit?: { perSecond: number; burst: number };
}

export interface FaultProxyOptions extends FaultSettings {
  /** Where requests go when not failed: the emulator's endpoint. */
  target: string;
  /** Seeds the random draws, so a fault schedule repeats run after run. */
  seed?: string;
}

export interface FaultProxy {
  endpoint: string;
  /** Requests passed on, answered 503, and stalled (held until close) so far. */
  stats: { forwarded: number; failed: number; stalled: number };
  /**
   * Changes the faults from the next request on: settings not named keep their value, and a setting
   * named with `undefined` is turned off (`configure({ stallOn: undefined })`).
   */
  configure(settings: FaultSettings): void;
  /** Stops listening and drops every held (stalled) request. */
  close(): Promise<void>;
}

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

/** S3 object requests (path-style: /bucket/key…); SNS, SQS and listings pass untouched. */
const isS3ObjectRequest = (req: IncomingMessage): boolean =>
  (req.method === "GET" || req.method === "PUT") && /^\/[^/?]+\/[^?]+/.test(req.url ?? "");

function decodedPath(url: string): string {
  const path = url.split("?")[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Sits between the workers and the emulator and answers a seeded fraction of S3 object requests with
 * 503 SlowDown, as S3 does under load, or holds them unanswered, as a hung connection does. The real SDK
 * sees real HTTP behaviour, so its own retries, backoff, timeouts and error parsing are what is being
 * tested, not a mock.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = seededBytes(options.seed ?? "faults", 1 << 16);
  let draw = 0;
  const roll = (rate: number | undefined) => (rate ?? 0) > 0 && random[draw++ % random.length]! / 256 < rate!;
  const settings: FaultSettings = {
    s3FailureRate: options.s3FailureRate,
    s3StallRate: options.s3StallRate,
    stallOn: options.stallOn,
    s3RateLimit: options.s3RateLimit,
  };
  const bucket = { tokens: options.s3RateLimit?.burst ?? 0, at: performance.now() };
  const overRate = (): boolean => {
    const limit = settings.s3RateLimit;
    if (!limit) return false;
    const now = performance.now();
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  };
  const stats = { forwarded: 0, failed: 0, stalled: 0 };
  const held = new Set<ServerResponse>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (isS3ObjectRequest(req)) {
      const stall =
        (!!settings.stallOn && decodedPath(req.url ?? "").includes(settings.stallOn)) ||
        roll(settings.s3StallRate);
      if (stall) {
        stats.stalled++;
        // Read the body (a PUT is sent in full, as to a server that hangs afterwards), then never answer.
        req.resume();
        held.add(res);
        res.once("close", () => held.delete(res));
        return;
      }
      if (roll(settings.s3FailureRate) || overRate()) {
        stats.failed++;
        req.resume();
        return void res.writeHead(503, { "content-type": "application/xml" }).end(SLOW_DOWN);
      }
    }
    stats.forwarded++;
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.headersSent || res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    configure: (changes) => void Object.assign(settings, changes),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A held request never ends on its own, and server.close() waits for every open connection.
        for (const res of held) res.socket?.destroy();
        held.clear();
        server.closeIdleConnections();
      }),
  };
}
