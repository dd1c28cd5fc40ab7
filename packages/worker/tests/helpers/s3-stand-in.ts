import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";

/** The SDK's own SHA-256 for Node, as its S3 client resolves it. */
const SHA256 = new S3Client({ region: "us-east-1" }).config.sha256;

export const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

/** One request as the stand-in saw it: the raw request line's target, headers and body. */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

type Answer = (seen: Seen, res: ServerResponse, req: IncomingMessage) => void;

/**
 * A loopback HTTP server standing in for S3: it records every request and answers with `answer`
 * (default: 200 and an empty body). The endpoint is what AWS_ENDPOINT_URL would be.
 */
export async function startS3StandIn(answer: Answer = (_, res) => res.end()) {
  const seen: Seen[] = [];
  let respond = answer;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
    seen.push(request);
    respond(request, res, req);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answerWith(next: Answer) {
      respond = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** S3's error document. */
export function s3Error(res: ServerResponse, status: number, code: string, message = code): void {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

/**
 * Checks a request's SigV4 signature as S3 does: rebuilds the canonical request from what arrived (the
 * path exactly as sent, not encoded again; the headers it names as signed; the payload hash it
 * declares), signs it with the same secret at its own x-amz-date, and compares. Also checks, as S3
 * does, that a declared payload hash is the hash of the bytes that arrived.
 */
export async function signatureHolds(seen: Seen, region = "us-east-1"): Promise<boolean> {
  const authorization = String(seen.headers.authorization ?? "");
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const declared = String(seen.headers["x-amz-content-sha256"] ?? "");
  if (declared !== "UNSIGNED-PAYLOAD" && declared !== createHash("sha256").update(seen.body).digest("hex")) {
    return false;
  }
  const [path, query = ""] = seen.url.split("?") as [string, string?];
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(seen.headers[name])]));
  const amzDate = String(seen.headers["x-amz-date"]);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`,
  );
  const signer = new SignatureV4({
    credentials: CREDENTIALS,
    region,
    service: "s3",
    sha256: SHA256,
    uriEscapePath: false,
  });
  const request = new HttpRequest({
    method: seen.method,
    hostname: String(seen.headers.host).split(":")[0]!,
    path,
    query: Object.fromEntries(new URLSearchParams(query)),
    headers,
  });
  const resigned = await signer.sign(request, { signingDate, signableHeaders: new Set(signedHeaders) });
  return resigned.headers.authorization === authorization;
}
