import { timingSafeEqual } from "node:crypto";
import { OrderIdSchema, OrderNotFoundError } from "@thumbs/core";
import type { AdminDeps } from "./deps.js";
import { HttpError } from "./errors.js";
import {
  type ApiRequest,
  type ApiResponse,
  decodePathSegment,
  json,
  parseInput,
  parseJsonBody,
} from "./http.js";
import { dismissError, orderErrors, orderImages, orderProgress, recentOrders } from "./orders.js";
import { retryFailed } from "./retry.js";
import { storedThumbnail, thumbnailOnDemand } from "./thumbnails.js";

export type { ApiRequest, ApiResponse };

/**
 * Every segment after the order id must be valid percent-encoding, whichever route reads it, so no
 * route's own decoding can fail with a URIError (a 500).
 */
function checkPercentEncoding(segments: string[]): void {
  for (const segment of segments) decodePathSegment(segment, "path segment");
}

function authorize(request: ApiRequest, token: string | undefined): void {
  if (!token) return;
  const header = request.headers.authorization ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, "Missing or bad credentials: send `Authorization: Bearer <API_TOKEN>`.");
  }
}

type Route = (deps: AdminDeps, request: ApiRequest, orderId: string, rest: string[]) => Promise<ApiResponse>;

/** `/orders/{id}/…` routes by method and the segments after the id. */
const ORDER_ROUTES: Array<[method: string, pattern: RegExp, route: Route]> = [
  ["GET", /^$/, (d, _r, id) => orderProgress(d, id)],
  ["GET", /^errors$/, (d, r, id) => orderErrors(d, id, r.query)],
  ["POST", /^errors\/[^/]+\/dismiss$/, (d, _r, id, rest) => dismissError(d, id, rest[1]!)],
  ["POST", /^retry$/, async (d, r, id) => retryFailed(d, id, await parseJsonBody(r))],
  ["GET", /^images$/, (d, r, id) => orderImages(d, id, r.query)],
  ["GET", /^images\/[^/]+\/[^/]+$/, (d, _r, id, rest) => storedThumbnail(d, id, rest[1]!, rest[2]!)],
  ["GET", /^thumbnails\/[^/]+$/, (d, r, id, rest) => thumbnailOnDemand(d, id, rest[1]!, r.query)],
];

/**
 * The admin API core: orders with progress, error records, retries, dismissals and thumbnails.
 * Knows nothing of Lambda or node:http; both adapters translate to and from ApiRequest/ApiResponse.
 * The caller is authorized before anything else, the body included, is read.
 */
export function createAdminApi(deps: AdminDeps): (request: ApiRequest) => Promise<ApiResponse> {
  return async (request) => {
    try {
      const segments = request.path.split("/").filter(Boolean);
      if (request.method === "GET" && request.path === "/health") return json(200, { ok: true });
      authorize(request, deps.config.apiToken);
      if (segments[0] !== "orders") throw new HttpError(404, `No route for ${request.path}.`);
      if (segments.length === 1) {
        if (request.method !== "GET")
          throw new HttpError(405, `Method ${request.method} is not allowed on /orders.`);
        return await recentOrders(deps, request.query);
      }
      const orderId = parseInput(OrderIdSchema, decodePathSegment(segments[1]!, "order id"), "order id");
      const rest = segments.slice(2);
      checkPercentEncoding(rest);
      const matches = ORDER_ROUTES.filter(([, pattern]) => pattern.test(rest.join("/")));
      if (matches.length === 0) throw new HttpError(404, `No route for ${request.path}.`);
      const route = matches.find(([method]) => method === request.method);
      if (!route) {
        throw new HttpError(
          405,
          `Method ${request.method} is not allowed on ${request.path}; expected ${matches[0]![0]}.`,
        );
      }
      return await route[2](deps, request, orderId, rest);
    } catch (error) {
      if (error instanceof HttpError) return json(error.status, { error: error.message });
      if (error instanceof OrderNotFoundError) return json(404, { error: error.message });
      throw error;
    }
  };
}
