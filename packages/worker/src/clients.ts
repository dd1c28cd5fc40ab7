import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * The worker's S3 client. Endpoints come from the SDK's own settings (AWS_ENDPOINT_URL for the local
 * emulator). Timeouts bound every request, connection and idle socket, so a stalled S3 cannot hang an
 * image (and each image's deadline aborts whatever is left: resize-slice.ts); keep-alive
 * sockets are sized for the images in flight (each does one GET and up to four PUTs at once).
 *
 * Response checksums are validated only when a request asks for them (WHEN_REQUIRED). By default the
 * SDK asks S3 for the stored checksum of every GetObject and recomputes it over the body on the main
 * thread; S3 now stores CRC64NVME for new uploads, which the SDK computes in JavaScript without the
 * optional CRT: a real share of an image's CPU (docs/PERFORMANCE.md), for bytes TLS has already
 * protected in transit and that a decode would reject if damaged at rest. Uploads keep their
 * checksum: over a thumbnail it costs next to nothing.
 *
 * The retry mode stays "standard": adaptive was measured under load-driven S3 throttling and finished
 * no sooner (docs/PERFORMANCE.md, "S3 retry mode").
 */
export function createWorkerS3(options: { forcePathStyle: boolean; concurrency: number }): S3Client {
  return new S3Client({
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
}
