import { timingSafeEqual } from "node:crypto";
import {
  describeIssues,
  FAILURE_CLASSES,
  OrderIdSchema,
  type OrderLedger,
  OrderNotFoundError,
} from "@thumbs/core";
import { z } from "zod";
import { HttpError } from "./errors.js";

/** A transport-neutral request, built by the Lambda adapter or the local HTTP server. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface AdminApiOptions {
  ledger: OrderLedger;
  /** When set, every request but /health needs `Authorization: Bearer <token>`. */
  apiToken?: string | undefined;
}

const PageQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  class: z.enum(FAILURE_CLASSES).optional(),
});
const RecentQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });

const json = (status: number, body: unknown): ApiResponse => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  body: JSON.stringify(body),
});

function parseQuery<S extends z.ZodType>(schema: S, query: ApiRequest["query"]): z.output<S> {
  const result = schema.safeParse(query);
  if (!result.success)
    throw new HttpError(400, `Bad query parameters: ${describeIssues(result.error).join("; ")}`);
  return result.data;
}

function parseOrderId(raw: string): string {
  const id = decodeURIComponent(raw);
  const result = OrderIdSchema.safeParse(id);
  if (!result.success)
    throw new HttpError(400, `Bad order id "${id}": ${describeIssues(result.error).join("; ")}`);
  return result.data;
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

/**
 * The admin API core: order progress and error records, newest first. Knows nothing of Lambda or
 * node:http; both adapters translate to and from ApiRequest/ApiResponse.
 */
export function createAdminApi(options: AdminApiOptions): (request: ApiRequest) => Promise<ApiResponse> {
  const { ledger } = options;
  return async (request) => {
    try {
      const segments = request.path.split("/").filter(Boolean);
      if (request.method === "GET" && segments.length === 1 && segments[0] === "health")
        return json(200, { ok: true });
      authorize(request, options.apiToken);
      if (request.method !== "GET")
        throw new HttpError(405, `Method ${request.method} is not allowed here; expected GET.`);
      if (segments[0] !== "orders" || segments.length > 3)
        throw new HttpError(404, `No route for ${request.path}.`);

      if (segments.length === 1) {
        const { limit } = parseQuery(RecentQuery, request.query);
        const ids = await ledger.recentOrderIds(limit);
        const orders = await Promise.all(ids.map((id) => ledger.getProgress(id).catch(() => null)));
        return json(200, { orders: orders.filter(Boolean) });
      }
      const orderId = parseOrderId(segments[1]!);
      if (segments.length === 2) return json(200, await ledger.getProgress(orderId));
      if (segments[2] !== "errors") throw new HttpError(404, `No route for ${request.path}.`);
      const page = parseQuery(PageQuery, request.query);
      await ledger.getProgress(orderId); // 404 for an unknown order rather than an empty page
      return json(200, await ledger.listErrors(orderId, page));
    } catch (error) {
      if (error instanceof HttpError) return json(error.status, { error: error.message });
      if (error instanceof OrderNotFoundError) return json(404, { error: error.message });
      throw error;
    }
  };
}
