import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { HttpError } from "./errors.js";
import { json } from "./http.js";
import {
  continueAndReadBody,
  createLimitedServer,
  dashboardRoutes,
  type HttpServerOptions,
  send,
  serverLimits,
} from "./http-server.js";
import { adminApiSigner, signAdminRequest } from "./sign-request.js";

/**
 * The dashboard against a deployed stack. On AWS the admin API accepts only SigV4-signed requests
 * (IAM), which a browser cannot make with the admin's AWS credentials; this loopback server serves the
 * dashboard and forwards its `/api/*` calls to the deployed API, signed with those credentials (the
 * same pattern as aws-sigv4-proxy, so access stays governed by IAM and CloudTrail, not a shared secret).
 *
 * The admin's credentials must not become anyone's: the server listens on loopback only, requires the
 * bearer token printed with the dashboard URL (so no other local process or web page can use it), and
 * rejects a Host that is not its own (so a DNS-rebinding page cannot reach it under another name).
 */
export interface SigningProxyOptions {
  /** The stack's `AdminApiUrl` output, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/ */
  api: URL;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** Bearer token the dashboard must send (from the URL fragment). */
  token: string;
  /** Timeouts and caps of the local server; the defaults suit one admin's browser. */
  limits?: HttpServerOptions;
}

/** Response headers worth passing back; hop-by-hop and AWS-internal ones are dropped. */
const PASSED_BACK = [
  "content-type",
  "cache-control",
  "etag",
  "last-modified",
  "x-thumbnail-source",
  // The dashboard's request queue waits as long as the API (or API Gateway's throttling) asks.
  "retry-after",
];
/** Request headers the API reads; everything else (cookies, the bearer token) stays on this machine. */
const FORWARDED = ["accept", "content-type", "if-none-match"];

export function createSigningProxy(options: SigningProxyOptions): Server {
  const signer = adminApiSigner(options.region, options.credentials);
  const outsideApi = dashboardRoutes();
  const expected = Buffer.from(`Bearer ${options.token}`);
  const limit = serverLimits(options.limits).maxBodyBytes;

  const server = createLimitedServer(async (req, res) => {
    try {
      const port = (server.address() as { port: number }).port;
      if (!isOwnHost(req.headers.host, port)) return fail(req, res, 421, "Unexpected Host header.");
      const url = new URL(req.url ?? "/", "http://localhost");
      if (outsideApi(req, res, url)) return;
      const sent = Buffer.from(req.headers.authorization ?? "");
      if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
        return fail(req, res, 401, "Missing or bad token: open the dashboard URL this command printed.");
      }
      await forward(req, res, url, signer, options.api, limit);
    } catch (error) {
      if (error instanceof HttpError) return fail(req, res, error.status, error.message);
      fail(req, res, 500, `The signing proxy failed: ${reason(error)}`);
    }
  }, options.limits);
  return server;
}

/**
 * Reads the body (the signature covers it), signs, sends, and passes the API's answer back whatever
 * its status. 502 only when the request never got an answer: credentials that cannot sign, or an API
 * that cannot be reached; each says which.
 */
async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  signer: SignatureV4,
  api: URL,
  limit: number,
): Promise<void> {
  const method = req.method ?? "GET";
  const body = method === "POST" ? await continueAndReadBody(req, res, limit) : undefined;
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  const signed = await signAdminRequest(signer, api, {
    method,
    path: url.pathname.slice("/api".length),
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  }).catch((error: unknown) => {
    throw new HttpError(
      502,
      `Could not sign the request with your AWS credentials: ${reason(error)}. Log in again (e.g. \`aws sso login\`) and restart the dashboard.`,
      { cause: error },
    );
  });
  const response = await fetch(signed.url, {
    method,
    headers: signed.headers,
    body,
    redirect: "manual",
  }).catch((error: unknown) => {
    throw new HttpError(502, `Could not reach the admin API at ${api.origin}: ${reason(error)}`, {
      cause: error,
    });
  });
  if (response.status === 403) {
    // API Gateway's own refusal ({"message":"Forbidden"}) says nothing about why: say what to check.
    await response.body?.cancel();
    return fail(
      req,
      res,
      403,
      "AWS refused the signed request (403): the credentials this command runs with need execute-api:Invoke on this API, in this region.",
    );
  }
  const back: Record<string, string> = {};
  for (const name of PASSED_BACK) {
    const value = response.headers.get(name);
    if (value !== null) back[name] = value;
  }
  const answer = await response.arrayBuffer().catch((error: unknown) => {
    throw new HttpError(502, `The admin API's answer was cut off: ${reason(error)}`, { cause: error });
  });
  send(req, res, { status: response.status, headers: back, body: Buffer.from(answer) });
}

/** An error's message with its cause's code or message (fetch says only "fetch failed"). */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}

function isOwnHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** The proxy's own error, as JSON; closes the connection if the request's body was left unread. */
function fail(req: IncomingMessage, res: ServerResponse, status: number, error: string): void {
  send(req, res, json(status, { error }));
}
