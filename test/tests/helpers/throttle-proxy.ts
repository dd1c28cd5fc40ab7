import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for API Gateway's stage throttling in front of the local admin server: a token bucket
 * per stage, `rate` tokens a second up to `burst`, one per `/api/` request; a request that finds the
 * bucket empty is answered 429 `{"message":"Too Many Requests"}` with no Retry-After, as API Gateway
 * answers. Everything else (the dashboard's files) passes untouched and free.
 */
export interface ThrottleProxyOptions {
  /** The admin server, e.g. http://127.0.0.1:1234 */
  target: string;
  rate: number;
  burst: number;
  /** API paths always answered 429 (with `Retry-After: 1`): a request that can never get through. */
  alwaysThrottle?: RegExp;
  /**
   * Rewrites every presigned thumbnail URL of an image listing to one that is refused (403, as S3
   * refuses an expired URL), so every tile has to fall back to the API: one call per thumbnail, as
   * before presigned URLs.
   */
  refusePresignedUrls?: boolean;
}

export interface ThrottleProxy {
  url: string;
  stats: {
    /** `/api/` requests passed on, and answered 429. */
    forwarded: number;
    throttled: number;
    /** Requests for one thumbnail through the API (`/images/` or `/thumbnails/`), by path and query. */
    thumbnailCalls: Map<string, number>;
    /** The most thumbnail calls in flight at once. */
    maxThumbnailsInFlight: number;
    /** Refused presigned-URL loads. */
    refused: number;
  };
  close(): Promise<void>;
}

const TOO_MANY = JSON.stringify({ message: "Too Many Requests" });

export async function startThrottleProxy(options: ThrottleProxyOptions): Promise<ThrottleProxy> {
  const target = new URL(options.target);
  let tokens = options.burst;
  let filledAt = performance.now();
  const take = (): boolean => {
    const now = performance.now();
    tokens = Math.min(options.burst, tokens + ((now - filledAt) / 1000) * options.rate);
    filledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const stats: ThrottleProxy["stats"] = {
    forwarded: 0,
    throttled: 0,
    thumbnailCalls: new Map(),
    maxThumbnailsInFlight: 0,
    refused: 0,
  };
  let thumbnailsInFlight = 0;
  let origin = "";

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    if (url.pathname.startsWith("/refused/")) {
      stats.refused += 1;
      res
        .writeHead(403, { "content-type": "application/xml" })
        .end("<Error><Code>AccessDenied</Code></Error>");
      return;
    }
    const isApi = url.pathname.startsWith("/api/");
    const isThumbnail = isApi && /\/(images|thumbnails)\/[^/]+/.test(url.pathname);
    if (isThumbnail) {
      const call = `${url.pathname}${url.search}`;
      stats.thumbnailCalls.set(call, (stats.thumbnailCalls.get(call) ?? 0) + 1);
    }
    if (isApi && options.alwaysThrottle?.test(url.pathname)) {
      stats.throttled += 1;
      res.writeHead(429, { "content-type": "application/json", "retry-after": "1" }).end(TOO_MANY);
      return;
    }
    if (isApi && !take()) {
      stats.throttled += 1;
      res.writeHead(429, { "content-type": "application/json" }).end(TOO_MANY);
      return;
    }
    if (isApi) stats.forwarded += 1;
    if (isThumbnail) {
      thumbnailsInFlight += 1;
      stats.maxThumbnailsInFlight = Math.max(stats.maxThumbnailsInFlight, thumbnailsInFlight);
    }
    const done = () => {
      if (isThumbnail) thumbnailsInFlight -= 1;
    };
    const listing = options.refusePresignedUrls && /\/images$/.test(url.pathname);
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      async (answer) => {
        if (!listing || answer.statusCode !== 200) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res).on("finish", done);
          return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of answer) chunks.push(chunk as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          images: Array<{ name: string; presignedUrl?: string }>;
        };
        for (const image of body.images) {
          if (image.presignedUrl) image.presignedUrl = `${origin}/refused/${encodeURIComponent(image.name)}`;
        }
        const text = JSON.stringify(body);
        const { "content-length": _, ...headers } = answer.headers;
        res.writeHead(200, { ...headers, "content-length": Buffer.byteLength(text) }).end(text);
        done();
      },
    );
    upstream.on("error", () => {
      done();
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
