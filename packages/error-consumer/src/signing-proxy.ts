import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { dashboardRoutes, readBody } from "./http-server.js";
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
}

/** Response headers worth passing back; hop-by-hop and AWS-internal ones are dropped. */
const PASSED_BACK = ["content-type", "cache-control", "etag", "last-modified", "x-thumbnail-source"];
/** Request headers the API reads; everything else (cookies, the bearer token) stays on this machine. */
const FORWARDED = ["accept", "content-type", "if-none-match"];
const MAX_BODY_BYTES = 256 * 1024;

export function createSigningProxy(options: SigningProxyOptions): Server {
  const signer = adminApiSigner(options.region, options.credentials);
  const outsideApi = dashboardRoutes();
  const expected = Buffer.from(`Bearer ${options.token}`);

  const server = createServer(async (req, res) => {
    try {
      const port = (server.address() as { port: number }).port;
      if (!isOwnHost(req.headers.host, port)) return json(res, 421, "Unexpected Host header.");
      const url = new URL(req.url ?? "/", "http://localhost");
      if (outsideApi(req, res, url)) return;
      const sent = Buffer.from(req.headers.authorization ?? "");
      if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
        return json(res, 401, "Missing or bad token: open the dashboard URL this command printed.");
      }
      await forward(req, res, url, signer, options.api);
    } catch (error) {
      json(
        res,
        502,
        `Could not reach the admin API: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });
  return server;
}

async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  signer: SignatureV4,
  api: URL,
): Promise<void> {
  const method = req.method ?? "GET";
  const body = method === "POST" ? await readBody(req, MAX_BODY_BYTES) : undefined;
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
  });
  const response = await fetch(signed.url, { method, headers: signed.headers, body, redirect: "manual" });
  if (response.status === 403) {
    // API Gateway's own refusal ({"message":"Forbidden"}) says nothing about why: say what to check.
    return json(
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
  res.writeHead(response.status, back).end(Buffer.from(await response.arrayBuffer()));
}

function isOwnHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

function json(res: ServerResponse, status: number, error: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error }));
}
