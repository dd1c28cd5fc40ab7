import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { seededBytes } from "./sample-images.js";

export interface FaultProxyOptions {
  /** Where requests go when not failed: the emulator's endpoint. */
  target: string;
  /** Fraction (0-1) of S3 object reads and writes answered with 503 SlowDown instead. */
  s3FailureRate: number;
  seed?: string;
}

export interface FaultProxy {
  endpoint: string;
  stats: { forwarded: number; failed: number };
  close(): Promise<void>;
}

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

/** S3 object requests (path-style: /bucket/key…); SNS, SQS and listings pass untouched. */
const isS3ObjectRequest = (req: IncomingMessage): boolean =>
  (req.method === "GET" || req.method === "PUT") && /^\/[^/?]+\/[^?]+/.test(req.url ?? "");

/**
 * Sits between the workers and the emulator and answers a seeded fraction of S3 object requests with
 * 503 SlowDown, as S3 does under load. The real SDK sees real HTTP errors, so its own retries, backoff
 * and error parsing are what is being tested, not a mock.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = seededBytes(options.seed ?? "faults", 1 << 16);
  let draw = 0;
  const stats = { forwarded: 0, failed: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (isS3ObjectRequest(req) && random[draw++ % random.length]! / 256 < options.s3FailureRate) {
      stats.failed++;
      req.resume();
      return void res.writeHead(503, { "content-type": "application/xml" }).end(SLOW_DOWN);
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
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
