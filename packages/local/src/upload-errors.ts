import { ThumbsError } from "@thumbs/core";
import type { Upload } from "./order-io.js";

/** The largest request body fauxqs 1.9.2 accepts (its Fastify bodyLimit); it answers larger ones with HTTP 413. */
export const EMULATOR_MAX_REQUEST_BYTES = 11 * 1024 * 1024;
/** S3's smallest multipart part (except the last). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** Between the two: every part of a multipart upload fits in one request the emulator accepts. */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** Some files of an order could not be uploaded; the message has one line per file. */
export class UploadError extends ThumbsError {
  constructor(
    readonly failures: ReadonlyArray<{ message: string }>,
    total: number,
  ) {
    super(
      [
        `${failures.length} of ${total} files could not be uploaded:`,
        ...failures.map((f) => `  - ${f.message}`),
      ].join("\n"),
    );
    this.name = "UploadError";
  }
}

export const formatMiB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * One line that names the file, its size and what went wrong, with the limit that was hit and what
 * to do. The SDK's own message for a refused request is "XML parse error: unexpected content", as the
 * emulator answers HTTP 413 with a JSON body the SDK tries to read as XML.
 */
export function describeUploadFailure(
  upload: Upload,
  bytes: number | undefined,
  bucket: string,
  key: string,
  error: unknown,
  partBytes: number,
): string {
  const file = `"${upload.name}"${bytes === undefined ? "" : ` (${formatMiB(bytes)}, ${bytes} bytes)`}`;
  const code = (error as { code?: string } | undefined)?.code;
  if ("path" in upload && code && bytes === undefined) {
    return `Could not read ${file} at ${upload.path} (${code}): check that the file exists and is readable, or leave it out of the folder.`;
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  if (status === 413) {
    const request = bytes === undefined ? partBytes : Math.min(bytes, partBytes);
    return (
      `Could not upload ${file} to s3://${bucket}/${key}: the S3 endpoint refused a ${formatMiB(request)} request as too large (HTTP 413). ` +
      `The local emulator accepts at most ${formatMiB(EMULATOR_MAX_REQUEST_BYTES)} per request, so larger files must go up in parts: ` +
      `use a part size from ${formatMiB(S3_MIN_PART_BYTES)} to ${formatMiB(EMULATOR_MAX_REQUEST_BYTES)} (UploadOptions.partBytes, now ${formatMiB(partBytes)}; the default is ${formatMiB(UPLOAD_PART_BYTES)}).`
    );
  }
  const reason = error instanceof Error ? `${error.name}: ${error.message.split("\n")[0]}` : String(error);
  return (
    `Could not upload ${file} to s3://${bucket}/${key}: ${reason}${status ? ` (HTTP ${status})` : ""}. ` +
    "Check that the S3 endpoint is running and the bucket exists, then run the order again."
  );
}
