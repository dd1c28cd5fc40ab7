import { describeIssues } from "@thumbs/core";
import type { z } from "zod";
import { HttpError } from "./errors.js";

/** A transport-neutral request, built by the Lambda adapter or the local HTTP server. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body?: string | undefined;
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

export function parseJsonBody(request: ApiRequest): unknown {
  if (!request.body) return {};
  try {
    return JSON.parse(request.body);
  } catch {
    throw new HttpError(400, 'Bad request body: expected JSON, e.g. {"indices": [3, 7]}.');
  }
}
