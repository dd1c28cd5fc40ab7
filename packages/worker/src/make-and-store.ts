import type { OutputSpec } from "@thumbs/core";
import { makeThumbnails, type Thumbnail } from "./resize.js";
import type { S3Objects } from "./s3-objects.js";
import { sniffImage } from "./sniff.js";
import { type StoreTarget, storeThumbnails } from "./store-thumbnails.js";

export interface ThumbnailJob {
  output: OutputSpec;
  maxInputPixels: number;
  /** What is left of the image's deadline once its original is in memory. */
  leftMs: number;
  /** Where its thumbnails go. */
  target: StoreTarget;
  /** Aborts the store at the image's deadline. */
  signal: AbortSignal;
}

/**
 * The step between fetching an original and recording its outcome, the same for the worker's lanes
 * and the admin API's thumbnails on demand: sniff the bytes, make every size within what is left of
 * the image's deadline, and store them. `release` runs once the original is no longer read (after
 * the resize, whatever its outcome), so a reused input buffer can go back to its pool.
 */
export async function makeAndStoreThumbnails(
  s3: S3Objects,
  original: Buffer,
  job: ThumbnailJob,
  release?: () => void,
): Promise<Thumbnail[]> {
  let thumbnails: Thumbnail[];
  try {
    sniffImage(original);
    thumbnails = await makeThumbnails(original, job.output, {
      maxInputPixels: job.maxInputPixels,
      // sharp counts whole seconds: at least one, and never past the deadline by more.
      timeoutSeconds: Math.max(1, Math.floor(job.leftMs / 1000)),
    });
  } finally {
    release?.();
  }
  job.signal.throwIfAborted();
  await storeThumbnails(s3, job.target, thumbnails, job.signal);
  return thumbnails;
}
