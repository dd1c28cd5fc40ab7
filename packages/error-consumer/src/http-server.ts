import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import sirv from "sirv";
import { type ApiRequest, type ApiResponse, bodyTooLarge, json, MAX_BODY_BYTES } from "./http.js";

/** The dashboard's static files; this module runs from src/ or dist/, one level below the package. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../dashboard/", import.meta.url));

/** Limits of a local server (this one and the signing proxy): what a slow or greedy client may hold. */
export interface HttpServerOptions {
  /** Largest request body read; past it, 413 and the connection is closed. */
  maxBodyBytes?: number;
  /** Time a client has to send a request's headers, else 408 and the connection is closed. */
  headersTimeoutMs?: number;
  /** Time a client has to send a whole request, body included, else 408 (at least headersTimeoutMs). */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept open. */
  keepAliveTimeoutMs?: number;
  /** Connections past this many are dropped as they arrive. */
  maxConnections?: number;
}

export const HTTP_SERVER_DEFAULTS: Required<HttpServerOptions> = {
  maxBodyBytes: MAX_BODY_BYTES,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** `options` over the defaults; an option given as undefined keeps its default. */
export function serverLimits(options: HttpServerOptions = {}): Required<HttpServerOptions> {
  const given = Object.entries(options).filter(([, value]) => value !== undefined);
  return { ...HTTP_SERVER_DEFAULTS, ...Object.fromEntries(given) };
}

/**
 * A node:http server with the given limits. `handler` also receives `Expect: 100-continue` requests
 * unanswered: their body is asked for (see continueAndReadBody) only if a route reads it, after
 * authorization.
 */
export function createLimitedServer(handler: Handler, options: HttpServerOptions = {}): Server {
  const limits = serverLimits(options);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default): check often enough to honour them.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, limits.headersTimeoutMs / 4)),
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  server.on("checkContinue", handler);
  return server;
}

/** The body length the client declared in Content-Length; 0 when it declared none. */
const declaredLength = (req: IncomingMessage): number => Number(req.headers["content-length"] ?? 0);

/**
 * The request body as text, refused with a 413 HttpError past `limit` bytes: at once when
 * Content-Length declares more, else as soon as more arrives. What arrives after that is discarded,
 * and the response then closes the connection (see send).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  if (declaredLength(req) > limit) return Promise.reject(bodyTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => void req.off("data", onData).off("end", onEnd).off("close", onClose);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop(); // the stream keeps flowing: the rest is discarded, not buffered
      reject(bodyTooLarge(limit));
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onClose = () => {
      stop();
      reject(new Error("The client closed the connection before it had sent the whole request body."));
    };
    req.on("data", onData).once("end", onEnd).once("close", onClose);
  });
}

/**
 * readBody for a request a route has decided to read: a client that sent `Expect: 100-continue` is
 * told to go ahead first (createLimitedServer leaves that to the route, so an anonymous caller or an
 * oversized declared body is answered before any body is sent).
 */
export function continueAndReadBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit = MAX_BODY_BYTES,
): Promise<string> {
  const waiting = /^100-continue$/i.test(req.headers.expect ?? "");
  if (waiting && declaredLength(req) <= limit && !res.headersSent) res.writeContinue();
  return readBody(req, limit);
}

/**
 * True when the request has a body the server has not received in full (not read, read only in part,
 * or not even asked for): keeping the connection would leave the rest of it to be parsed as the next
 * request, so the response closes it.
 */
export function bodyLeftUnread(req: IncomingMessage): boolean {
  const hasBody = req.headers["transfer-encoding"] !== undefined || declaredLength(req) > 0;
  return hasBody && !req.complete;
}

/** Writes `response`, closing the connection after it if the request's body was left unread. */
export function send(req: IncomingMessage, res: ServerResponse, response: ApiResponse): void {
  if (res.headersSent || res.destroyed) return; // e.g. a 408 already went out and the socket is gone
  const headers = bodyLeftUnread(req) ? { ...response.headers, connection: "close" } : response.headers;
  res.writeHead(response.status, headers).end(response.body);
}

/**
 * Serves the API core over node:http for the local runtime, under `/api`, and the dashboard's static
 * files under `/dashboard/` (on AWS the same files go to any static host). The body of a request is
 * read only when a route asks for it, after the API core has checked the bearer token.
 */
export function createHttpServer(
  api: (request: ApiRequest) => Promise<ApiResponse>,
  options: HttpServerOptions = {},
): Server {
  const outsideApi = dashboardRoutes();
  const limit = serverLimits(options).maxBodyBytes;
  return createLimitedServer(async (req, res) => {
    try {
      if (declaredLength(req) > limit)
        return send(req, res, json(413, { error: bodyTooLarge(limit).message }));
      const url = new URL(req.url ?? "/", "http://localhost");
      if (outsideApi(req, res, url)) return;
      send(req, res, await api(apiRequest(req, res, url, limit)));
    } catch {
      send(req, res, json(500, { error: "Internal error" }));
    }
  }, options);
}

function apiRequest(req: IncomingMessage, res: ServerResponse, url: URL, limit: number): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value[0] : value;
  return {
    method: req.method ?? "GET",
    path: url.pathname.slice("/api".length),
    query: Object.fromEntries(url.searchParams),
    headers,
    body: req.method === "POST" ? () => continueAndReadBody(req, res, limit) : undefined,
  };
}

/**
 * Everything outside `/api/`, for this server and the signing proxy alike: `/` redirects to the
 * dashboard, `/dashboard/*` serves its files, anything else is 404. True when it answered.
 */
export function dashboardRoutes(): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const assets = sirv(DASHBOARD_DIR, { dev: false, etag: true });
  return (req, res, url) => {
    if (url.pathname === "/") {
      res.writeHead(302, { location: "/dashboard/" }).end();
    } else if (url.pathname.startsWith("/dashboard")) {
      req.url = req.url?.slice("/dashboard".length) || "/";
      assets(req, res, () => void res.writeHead(404).end());
    } else if (!url.pathname.startsWith("/api/")) {
      res.writeHead(404).end();
    } else {
      return false;
    }
    return true;
  };
}
