import { setTimeout as sleep } from "node:timers/promises";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { parseXML } from "@aws-sdk/xml-builder";
import { getEndpointFromInstructions } from "@smithy/core/endpoints";
import { extendedEncodeURIComponent, HttpRequest } from "@smithy/core/protocols";
import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import { SignatureV4 } from "@smithy/signature-v4";
import type { RetryErrorInfo, RetryStrategyV2 } from "@smithy/types";
import { Agent, type Dispatcher } from "undici";
import { S3ObjectsError, S3RequestError } from "./errors.js";

/** A GET's response: the declared length (when S3 sent one) and the body, a Node stream. */
export interface ObjectBody {
  contentLength: number | undefined;
  body: Dispatcher.ResponseData["body"];
}

export interface PutOptions {
  contentType: string;
  cacheControl: string;
  metadata: Record<string, string>;
  signal?: AbortSignal;
}

interface BucketEndpoint {
  url: URL;
  signer: SignatureV4;
}

/**
 * The worker's GETs of originals and PUTs of thumbnails, three requests per image, sent without the
 * SDK's per-request middleware stack: resolving the endpoint rules, serialising through schemas and
 * assembling the middleware cost more CPU per request than reading a 1 MB original off the socket
 * (docs/PERFORMANCE.md, "Worker CPU and idle lanes"). Everything that decides *what* is sent is
 * still the SDK's, taken from the given client's resolved configuration:
 *
 * - the endpoint, resolved once per bucket by the SDK's own S3 rules (region, path or virtual-hosted
 *   style, FIPS, dual-stack, `AWS_ENDPOINT_URL`);
 * - the credentials provider (the same memoised, refreshing identity as the client's);
 * - SigV4 signing by `@smithy/signature-v4` with S3's settings (no double-encoded path, signed payload
 *   hash, so S3 itself rejects a PUT whose bytes changed in transit);
 * - the key's path encoding (`extendedEncodeURIComponent`, as the SDK's serializer);
 * - retries by the client's own retry strategy (standard or adaptive, `maxAttempts`, its retry quota),
 *   with errors sorted by the SDK's own throttling/transient/server classifiers.
 *
 * undici carries the requests: keep-alive connections, and timeouts on connecting (3 s), on the
 * response headers (10 s) and on each gap in the body (5 s), the bounds the SDK client had. Each
 * image's deadline aborts whatever is left through `signal`. Deletes and everything else stay on the
 * SDK client. Buckets that need another signature (S3 Express directory buckets, multi-region access
 * points) are refused with a named error.
 */
export class S3Objects {
  private readonly agent: Agent;
  private readonly endpoints = new Map<string, Promise<BucketEndpoint>>();

  constructor(
    readonly client: S3Client,
    options: { connections: number },
  ) {
    this.agent = new Agent({
      connections: options.connections,
      connect: { timeout: 3_000 },
      headersTimeout: 10_000,
      bodyTimeout: 5_000,
    });
  }

  async get(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectBody> {
    const response = await this.send("GET", bucket, key, {}, undefined, signal);
    const length = response.headers["content-length"];
    return {
      contentLength: typeof length === "string" ? Number(length) : undefined,
      body: response.body,
    };
  }

  async put(bucket: string, key: string, body: Buffer, options: PutOptions): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": options.contentType,
      "cache-control": options.cacheControl,
      "content-length": String(body.length),
    };
    for (const [name, value] of Object.entries(options.metadata)) headers[`x-amz-meta-${name}`] = value;
    const response = await this.send("PUT", bucket, key, headers, body, options.signal);
    await response.body.dump();
  }

  /** Closes the connections; the client given is the caller's to destroy. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  /** One request under the client's retry strategy; a non-2xx response becomes an S3RequestError. */
  private async send(
    method: "GET" | "PUT",
    bucket: string,
    key: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> {
    const endpoint = await this.endpoint(bucket);
    const strategy = (await this.client.config.retryStrategy()) as RetryStrategyV2;
    let token = await strategy.acquireInitialRetryToken("");
    for (;;) {
      try {
        const response = await this.attempt(endpoint, method, key, headers, body, signal);
        strategy.recordSuccess(token);
        return response;
      } catch (error) {
        if (signal?.aborted) throw error;
        try {
          // Some versions of the strategy wait out the backoff inside this call: the deadline must
          // still end it, as the SDK's own retry middleware races it against the abort signal.
          const refreshed = strategy.refreshRetryTokenForRetry(token, retryInfo(error));
          token = await (signal ? Promise.race([refreshed, aborted(signal)]) : refreshed);
        } catch {
          throw error;
        }
        await sleep(token.getRetryDelay(), undefined, signal ? { signal } : {});
      }
    }
  }

  private async attempt(
    endpoint: BucketEndpoint,
    method: "GET" | "PUT",
    key: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> {
    const { url, signer } = endpoint;
    const unsigned = new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: `${url.pathname.replace(/\/$/, "")}/${key.split("/").map(extendedEncodeURIComponent).join("/")}`,
      headers: { host: url.host, ...headers },
      body,
    });
    const signingDate = new Date(Date.now() + this.client.config.systemClockOffset);
    const signed = await signer.sign(unsigned, { signingDate });
    let response: Dispatcher.ResponseData;
    try {
      // Origin and path apart: a URL string would be normalised, and a key's `..` or `//` segments lost.
      response = await this.agent.request({
        origin: url.origin,
        path: signed.path,
        method,
        headers: signed.headers,
        body,
        signal,
      });
    } catch (error) {
      // An aborted request, or one undici refused to send (an invalid header): nothing to retry.
      if (signal?.aborted || (error as { code?: unknown }).code === "UND_ERR_INVALID_ARG") throw error;
      throw S3RequestError.network(method, error);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    throw await errorOf(method, response);
  }

  /** The bucket's endpoint and signer, resolved once by the SDK's endpoint rules. */
  private endpoint(bucket: string): Promise<BucketEndpoint> {
    let found = this.endpoints.get(bucket);
    if (!found) {
      found = this.resolve(bucket);
      found.catch(() => this.endpoints.delete(bucket));
      this.endpoints.set(bucket, found);
    }
    return found;
  }

  private async resolve(bucket: string): Promise<BucketEndpoint> {
    const config = this.client.config;
    const resolved = await getEndpointFromInstructions(
      { Bucket: bucket, Key: "k" },
      GetObjectCommand,
      config,
    );
    const scheme = (resolved.properties?.authSchemes as SigningScheme[] | undefined)?.[0];
    if (scheme && scheme.name !== "sigv4") {
      throw new S3ObjectsError(
        `Bucket "${bucket}" needs the ${scheme.name} signature, which the worker's S3 requests do not ` +
          "make: use a general-purpose bucket (not an S3 Express directory bucket or a multi-region access point).",
      );
    }
    const signer = new SignatureV4({
      credentials: config.credentials,
      region: scheme?.signingRegion ?? (await config.region()),
      service: scheme?.signingName ?? "s3",
      sha256: config.sha256,
      // S3 signs the path as sent: encoded once, not twice as other services expect.
      uriEscapePath: false,
    });
    return { url: resolved.url, signer };
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

interface SigningScheme {
  name: string;
  signingName?: string;
  signingRegion?: string;
}

/** What the SDK's retry strategy needs to know of a failed attempt, decided by the SDK's classifiers. */
function retryInfo(error: unknown): RetryErrorInfo {
  const e = error as Parameters<typeof isThrottlingError>[0];
  const errorType = isThrottlingError(e)
    ? "THROTTLING"
    : isTransientError(e)
      ? "TRANSIENT"
      : isServerError(e)
        ? "SERVER_ERROR"
        : "CLIENT_ERROR";
  return { errorType };
}

/** S3's error document (`<Error><Code>…</Code><Message>…</Message></Error>`) as an S3RequestError. */
async function errorOf(method: string, response: Dispatcher.ResponseData): Promise<S3RequestError> {
  let code: string | undefined;
  let message: string | undefined;
  try {
    // An error document is small; anything else (a proxy's page) is not read past 64 KiB.
    const text = await readCapped(response.body, 64 * 1024);
    const parsed = text ? (parseXML(text) as { Error?: { Code?: unknown; Message?: unknown } }) : {};
    code = typeof parsed.Error?.Code === "string" && parsed.Error.Code ? parsed.Error.Code : undefined;
    message = typeof parsed.Error?.Message === "string" ? parsed.Error.Message : undefined;
  } catch {
    response.body.destroy();
  }
  return new S3RequestError(method, { status: response.statusCode, code, message });
}

async function readCapped(body: Dispatcher.ResponseData["body"], max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
