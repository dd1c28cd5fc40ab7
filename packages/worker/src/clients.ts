import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { S3Objects } from "./s3-objects.js";

/**
 * The worker's S3: originals and thumbnails go through S3Objects (the SDK's endpoint rules, credentials,
 * signer and retry strategy without its per-request middleware: s3-objects.ts), everything else
 * (deletes, the admin API's reads) through the S3 client it wraps, `.client`. Both have keep-alive
 * connections sized for the images in flight (each does one GET and up to four PUTs at once), and
 * timeouts on connecting, on the response and on an idle socket, so a stalled S3 cannot hang an image;
 * each image's deadline aborts whatever is left.
 *
 * Neither asks S3 for the stored checksum of a GET (`responseChecksumValidation: "WHEN_REQUIRED"` on the
 * client; S3Objects never asks). S3 stores CRC64NVME for new uploads, which the SDK computes in
 * JavaScript without the optional CRT: a real share of an image's CPU (docs/PERFORMANCE.md), for bytes
 * TLS protects in transit and that a decode rejects if damaged at rest. Uploads keep an integrity
 * check: S3Objects signs each PUT's payload hash, which S3 verifies.
 *
 * The retry mode stays "standard": adaptive was measured under load-driven S3 throttling and finished
 * no sooner (docs/PERFORMANCE.md, "S3 retry mode").
 */
export function createWorkerS3(options: { forcePathStyle: boolean; concurrency: number }): S3Objects {
  const client = new S3Client({
    forcePathStyle: options.forcePathStyle,
    maxAttempts: 4,
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 3_000,
      // Without throwOnRequestTimeout this SDK only logs a warning when the time is up. Each request
      // is also bounded by its image's deadline (an abort signal), and an idle socket by socketTimeout.
      requestTimeout: 10_000,
      throwOnRequestTimeout: true,
      socketTimeout: 5_000,
      httpsAgent: { keepAlive: true, maxSockets: options.concurrency * 5 },
      httpAgent: { keepAlive: true, maxSockets: options.concurrency * 5 },
    }),
  });
  return new S3Objects(client, { connections: options.concurrency * 5 });
}
