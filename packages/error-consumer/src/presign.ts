import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl, S3RequestPresigner } from "@aws-sdk/s3-request-presigner";
import { buildQueryString, escapeUriPath, HttpRequest } from "@smithy/core/protocols";

/**
 * A client for presigning only, with the admin API's region, credentials and endpoint but no flexible
 * checksums: with them the SDK hoists checksum parameters (`x-amz-checksum-mode`, an empty body's
 * `x-amz-checksum-crc32`) into a GET URL, which a browser's plain GET has no use for.
 */
const presignClients = new WeakMap<S3Client, S3Client>();
function presignClient(s3: S3Client): S3Client {
  let client = presignClients.get(s3);
  if (!client) {
    const c = s3.config;
    client = new S3Client({
      region: c.region,
      credentials: c.credentials,
      forcePathStyle: c.forcePathStyle,
      ...(c.isCustomEndpoint && c.endpoint ? { endpoint: c.endpoint } : {}),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    presignClients.set(s3, client);
  }
  return client;
}

/**
 * Presigned GET URLs for `keys` of one bucket, all signed at `signingDate` for `expiresIn` seconds.
 *
 * `getSignedUrl` runs the client's whole middleware stack (endpoint rules included) per key, ~1 ms
 * each: a second of CPU for a page of 1,000 thumbnails. So the first key goes through it, and the rest
 * are signed directly with the same endpoint, region and service, read back from that first URL. The
 * direct way must reproduce the first URL exactly (same date, same signature) or every key goes
 * through `getSignedUrl`.
 */
export async function presignGetUrls(
  s3: S3Client,
  bucket: string,
  keys: string[],
  options: { expiresIn: number; signingDate: Date },
): Promise<string[]> {
  if (keys.length === 0) return [];
  const client = presignClient(s3);
  const viaSdk = (key: string) => {
    presignStats.viaSdk += 1;
    return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), options);
  };
  const first = await viaSdk(keys[0]!);
  const direct = directSigner(client, new URL(first), keys[0]!);
  if (!direct || (await direct(keys[0]!, options)) !== first) return Promise.all(keys.map(viaSdk));
  return [first, ...(await Promise.all(keys.slice(1).map((key) => direct(key, options))))];
}

/** URLs signed through `getSignedUrl` so far (one per call when the direct way works); for tests. */
export const presignStats = { viaSdk: 0 };

type Sign = (key: string, options: { expiresIn: number; signingDate: Date }) => Promise<string>;

function directSigner(client: S3Client, url: URL, key: string): Sign | undefined {
  const escaped = escapeUriPath(key);
  // The credential scope: access key / date / region / service / aws4_request.
  const scope = url.searchParams.get("X-Amz-Credential")?.split("/");
  if (!url.pathname.endsWith(escaped) || scope?.length !== 5) return undefined;
  const base = url.pathname.slice(0, -escaped.length);
  const [, , region, service] = scope as [string, string, string, string, string];
  const presigner = new S3RequestPresigner({
    ...client.config,
    signingName: service,
    region: async () => region,
  });
  const query = Object.fromEntries(
    [...url.searchParams].filter(([name]) => !name.toLowerCase().startsWith("x-amz-")),
  );
  return async (k, options) => {
    const request = new HttpRequest({
      method: "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: `${base}${escapeUriPath(k)}`,
      query: { ...query },
      headers: { host: url.host },
    });
    const signed = await presigner.presign(request, options);
    // As getSignedUrl formats it, so the first key's URL compares equal.
    return `${url.protocol}//${url.host}${signed.path}?${buildQueryString(signed.query ?? {})}`;
  };
}
