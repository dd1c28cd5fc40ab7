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
