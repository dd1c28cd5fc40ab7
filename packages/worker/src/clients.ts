import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * The worker's S3 client. Endpoints come from the SDK's own settings (AWS_ENDPOINT_URL for the local
 * emulator). Timeouts bound every request so a stalled connection cannot hang an image; keep-alive
 * sockets are sized for the images in flight (each does one GET and up to four PUTs at once).
 */
export function createWorkerS3(options: { forcePathStyle: boolean; concurrency: number }): S3Client {
  return new S3Client({
    forcePathStyle: options.forcePathStyle,
    maxAttempts: 4,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 3_000,
      requestTimeout: 20_000,
      httpsAgent: { keepAlive: true, maxSockets: options.concurrency * 5 },
      httpAgent: { keepAlive: true, maxSockets: options.concurrency * 5 },
    }),
  });
}
