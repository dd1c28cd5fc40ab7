import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { classifyS3Error, ImageFailure } from "@thumbs/core";

/**
 * Downloads one original into memory, refusing anything over `maxBytes` before reading its body.
 * A buffer, not a stream into sharp: sharp gathers a stream into one buffer before decoding anyway,
 * and a buffer lets the worker sniff the format first.
 */
export async function fetchOriginal(
  s3: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<Buffer> {
  let response: GetObjectCommandOutput;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    throw classifyS3Error(error, "read");
  }
  const body = response.Body as
    | (NodeJS.ReadableStream & { transformToByteArray(): Promise<Uint8Array>; destroy?: () => void })
    | undefined;
  if (response.ContentLength !== undefined && response.ContentLength > maxBytes) {
    body?.destroy?.();
    throw new ImageFailure(
      "TooLarge",
      `The original is ${formatBytes(response.ContentLength)}, over the ${formatBytes(maxBytes)} limit (MAX_INPUT_BYTES).`,
    );
  }
  if (!body) return Buffer.alloc(0);
  try {
    const bytes = await body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw classifyS3Error(error, "read");
  }
}

const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
