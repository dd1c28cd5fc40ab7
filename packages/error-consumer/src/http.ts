import { describeIssues } from "@thumbs/core";
import { z } from "zod";
import { HttpError } from "./errors.js";

/** The largest request body either adapter accepts: the API's bodies are small JSON documents. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A request body: the text itself (Lambda, which has it in the event already), or a reader the API
 * core calls only after it has authorized and routed the request, so an anonymous caller's body is
 * never read (the local server).
 */
export type RequestBody = string | (() => Promise<string>);

/** A transport-neutral request, built by the Lambda adapter or the local HTTP server. */
export interface ApiRequest {
  method: string;
  /** The path as it arrived: each segment still percent-encoded. */
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body?: RequestBody | undefined;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** Text (JSON) or bytes (images); the Lambda adapter base64-encodes bytes. */
  body: string | Uint8Array;
}

export const json = (status: number, body: unknown): ApiResponse => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  body: JSON.stringify(body),
});

/** Validates `input` or answers 400 saying which field was wrong and what was expected. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new HttpError(400, `Bad ${what}: ${describeIssues(result.error).join("; ")}`);
  return result.data;
}

/**
 * A whole number as a path or query parameter: plain decimal digits, no sign, no leading zeros, at
 * most 9 of them. `0x3`, `3.0`, `1e0` and ` 3` are refused rather than read as 3.
 */
export const WholeNumberParam = z
  .string()
  .regex(
    /^(0|[1-9][0-9]{0,8})$/,
    "expected a whole number written in plain digits, e.g. 3 (no sign, point, exponent, hex or leading zeros)",
  )
  .transform(Number);

/** One percent-encoded path segment, decoded; 400 naming `what` when it is not valid percent-encoding. */
export function decodePathSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(
      400,
      `Bad ${what}: ${JSON.stringify(raw)} is not valid percent-encoding (each % must start a %XX escape of UTF-8 bytes); encode it with encodeURIComponent.`,
    );
  }
}

/** 413, naming the limit: raised by either adapter, before or while reading the body. */
export function bodyTooLarge(limit = MAX_BODY_BYTES): HttpError {
  return new HttpError(
    413,
    `Request body too large: the limit is ${describeBytes(limit)}; send a smaller body (a retry of fewer indices at a time).`,
  );
}

const describeBytes = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB (${bytes} bytes)` : `${bytes} bytes`;

/**
 * The request's body as text (empty when it has none), read now if the adapter left it unread; the
 * reader enforces the adapter's limit, a body that arrived whole (Lambda) is held to MAX_BODY_BYTES.
 */
export async function readRequestBody(request: ApiRequest): Promise<string> {
  if (typeof request.body === "function") return request.body();
  const body = request.body ?? "";
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw bodyTooLarge();
  return body;
}

export async function parseJsonBody(request: ApiRequest): Promise<unknown> {
  const body = await readRequestBody(request);
  if (!body) return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new HttpError(400, 'Bad request body: expected JSON, e.g. {"indices": [3, 7]}.');
  }
}
