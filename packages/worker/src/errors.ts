import { ImageFailure, ThumbsError } from "@thumbs/core";

/** A slice could not be processed as a whole (e.g. Redis unreachable); the slice is retried. */
export class SliceError extends ThumbsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SliceError";
  }
}

const megapixels = (pixels: number): string => `${(pixels / 1e6).toFixed(1)} MP`;

/** TooLarge for an image whose header declares more pixels than MAX_INPUT_PIXELS: its size, the limit, the setting. */
export function tooManyPixels(width: number, height: number, limit: number): ImageFailure {
  return new ImageFailure(
    "TooLarge",
    `The image is ${width}×${height} pixels (${megapixels(width * height)}), over the ${megapixels(limit)} ` +
      `limit (MAX_INPUT_PIXELS = ${limit}): upload a smaller image, or raise MAX_INPUT_PIXELS.`,
  );
}

/** TooLarge for a HEIC whose decode would need more memory than the worker can give it. */
export function heicNeedsMoreMemory(
  width: number,
  height: number,
  neededMb: number,
  budgetMb: number,
): ImageFailure {
  return new ImageFailure(
    "TooLarge",
    `Decoding this ${width}×${height} HEIC (${megapixels(width * height)}) needs about ${neededMb} MB, ` +
      `over the ${budgetMb} MB this worker has for HEIC decoding: raise the worker's memory ` +
      "(workerMemoryMb), or lower MAX_INPUT_PIXELS so such files are refused from their header.",
  );
}

/** TooLarge for a decode stopped at the image's deadline. */
export function decodeTimedOut(what: string, seconds: number): ImageFailure {
  return new ImageFailure(
    "TooLarge",
    `Decoding took longer than the per-image time limit: ${what} was stopped after ${seconds} s ` +
      "(IMAGE_TIMEOUT_SECONDS): upload a smaller image, or raise IMAGE_TIMEOUT_SECONDS.",
  );
}

/**
 * A GET or PUT of the worker's own S3 requests (s3-objects.ts) that S3 answered with an error, or that
 * never got an answer. Shaped like the SDK's service exceptions (`name` is S3's error code,
 * `$metadata.httpStatusCode` the status), so the SDK's retry classifiers and `classifyS3Error` read it
 * as they read the SDK's own; a failure without a response is marked retryable, as the SDK treats it.
 */
export class S3RequestError extends ThumbsError {
  readonly $metadata: { httpStatusCode?: number };
  readonly $retryable?: object;
  readonly code?: string;

  constructor(
    method: string,
    answer: { status?: number; code?: string; message?: string },
    options?: { cause?: unknown },
  ) {
    const { status, code, message } = answer;
    const what = status === undefined ? "got no response" : `answered ${status}`;
    super(`S3 ${method} ${what}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`, options);
    this.name = status === undefined ? "S3NetworkError" : (code ?? `Http${status}`);
    this.$metadata = status === undefined ? {} : { httpStatusCode: status };
    if (status === undefined) this.$retryable = {};
    if (code !== undefined) this.code = code;
  }

  /** No response: the connection failed, timed out or was cut. */
  static network(method: string, cause: unknown): S3RequestError {
    const code = (cause as { code?: unknown } | undefined)?.code;
    return new S3RequestError(
      method,
      { ...(typeof code === "string" ? { code } : {}), message: (cause as Error | undefined)?.message },
      { cause },
    );
  }
}

/** The worker's S3 requests cannot serve this bucket (its configuration, not an image's fault). */
export class S3ObjectsError extends ThumbsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "S3ObjectsError";
  }
}
