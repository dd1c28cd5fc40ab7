import { Sha256 } from "@aws-crypto/sha256-js";
import { buildQueryString } from "@smithy/core/protocols";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Provider } from "@smithy/types";

/**
 * Signing requests to the deployed admin API, which accepts only SigV4 (IAM): shared by the
 * dashboard's signing proxy and the load test's `--target aws`.
 */

/** Region of an execute-api URL (`{id}.execute-api.{region}.amazonaws.com`), if it is one. */
export function regionOfApiUrl(api: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(api.hostname)?.[1];
}

export function adminApiSigner(
  region: string,
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>,
): SignatureV4 {
  return new SignatureV4({ service: "execute-api", region, credentials, sha256: Sha256 });
}

export interface AdminRequest {
  method: string;
  /** Below the API's base path, e.g. `/orders/A-1/errors`, percent-encoded as it goes on the wire. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  signingDate?: Date;
}

/**
 * The URL and headers (Authorization, X-Amz-Date, the session token if any) for one request to the
 * API at `api` (the stack's AdminApiUrl, whose path may hold a stage). The query string is encoded
 * exactly as the signature canonicalised it (RFC 3986), or API Gateway would reject it.
 */
export async function signAdminRequest(
  signer: SignatureV4,
  api: URL,
  request: AdminRequest,
): Promise<{ url: URL; headers: Record<string, string> }> {
  const signed = await signer.sign(
    new HttpRequest({
      protocol: api.protocol,
      hostname: api.hostname,
      port: api.port ? Number(api.port) : undefined,
      method: request.method,
      path: `${api.pathname.replace(/\/$/, "")}${request.path}`,
      query: request.query ?? {},
      headers: { ...request.headers, host: api.host },
      body: request.body,
    }),
    request.signingDate ? { signingDate: request.signingDate } : {},
  );
  const url = new URL(signed.path, api);
  url.search = buildQueryString(signed.query ?? {});
  return { url, headers: signed.headers };
}
