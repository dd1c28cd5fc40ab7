import type { FailureClass, OutputSpec, ThumbnailSize } from "@thumbs/core";
import { CONTENT_TYPES, classifyDecodeError, ImageFailure } from "@thumbs/core";
import { Semaphore } from "async-mutex";
import sharp, { type Sharp } from "sharp";
import { LIBVIPS_THREADS } from "./concurrency.js";
import { heicAsTiff } from "./decode-heic.js";
import { tooManyPixels } from "./errors.js";
import { looksLikeHeif } from "./sniff.js";

/**
 * sharp's process-wide settings for resizing originals. Applied by the entry points that resize (the
 * worker's handler and local process, the admin API's handler), never on import: importing this
 * package must not change sharp for the rest of a process (a CDK app, a test, sample generation).
 */
export function applyResizeSettings(): void {
  // Each image is worked on by one libvips thread; parallelism comes from resizing several images at
  // once (see concurrency.ts), which scales better than splitting one small image across threads.
  sharp.concurrency(LIBVIPS_THREADS);
  // A worker sees every original once: caching decoded inputs only costs memory.
  sharp.cache(false);
}

export interface ResizeLimits {
  maxInputPixels: number;
  timeoutSeconds: number;
}

export interface Thumbnail {
  size: ThumbnailSize;
  data: Buffer;
  width: number;
  height: number;
  contentType: string;
}

const WHITE = { r: 255, g: 255, b: 255 };

/**
 * JPEG output settings: baseline 4:2:0 at the order's quality. `optimiseCoding: false` skips libjpeg's
 * second pass that builds image-specific Huffman tables, trading slightly larger files for less CPU
 * (docs/PERFORMANCE.md, "Resize core"). Pixels are identical either way: it is lossless entropy
 * coding. Set it back to true if stored bytes matter more than CPU time.
 */
const JPEG_OPTIONS = { progressive: false, chromaSubsampling: "4:2:0", optimiseCoding: false } as const;

/**
 * Kernel for the step from the shrink-on-load decode to the largest size. JPEG's DCT scaling (1/2,
 * 1/4, 1/8) has already done the big reduction, leaving a factor under 2 for almost every original,
 * where a triangle filter (libvips widens it with the factor, so it still antialiases) is as close to
 * a full-decode lanczos3 result as lanczos3 itself, for less CPU (PSNR and times in
 * docs/PERFORMANCE.md). Smaller sizes keep lanczos3: a 4× reduction shows the kernel more, and there
 * it costs little.
 */
const LARGEST_KERNEL = "linear";

/**
 * Makes every thumbnail of `spec`, decoding the original once.
 *
 * The largest size is made and encoded in one pipeline straight from the original: libvips shrinks
 * JPEG and WebP on load (decoding at 1/2, 1/4 or 1/8 scale) as far as that size allows, orients it
 * from EXIF, converts it to sRGB using any embedded ICC profile, and flattens transparency for JPEG.
 * Every smaller size is then made from that encoded largest size, which decodes with shrink-on-load
 * again (1024 → 256 px is a 1/4-scale JPEG decode: a few thousand pixels, no resampling left to do).
 *
 * Why not keep the largest size's raw pixels for the smaller ones? One image at a time it costs the
 * same, but in the worker the raw buffer handed back to JavaScript per image, and a third sharp
 * pipeline, cost main-thread time and garbage collection (docs/PERFORMANCE.md has the load test's
 * numbers). The smaller sizes come from a second-generation JPEG, which the quality test
 * bounds against one pipeline per size (within 0.5 dB of it): the largest size's artefacts are four
 * times finer than the smaller size's pixels and average away. An original smaller than the largest
 * size on both sides is not resized at all, so its artefacts would not average away: its smaller
 * sizes are made from the original itself, which is small and cheap to decode again.
 *
 * Alternatives measured and not kept (docs/PERFORMANCE.md has the numbers): random access instead
 * of sequential read (within noise, and it holds the whole decoded original), cubic or lanczos2 for
 * the large size (between linear and lanczos3 in cost).
 */
export async function makeThumbnails(
  original: Buffer,
  spec: OutputSpec,
  limits: ResizeLimits,
): Promise<Thumbnail[]> {
  // HEIC: decoded first (decode-heic.ts) to a TIFF carrying its colour profile, which sharp takes
  // like any other original; the pipelines get what is left of the image's time.
  const started = performance.now();
  const decoded = looksLikeHeif(original) ? await heicAsTiff(original, limits) : undefined;
  const input = decoded?.tiff ?? original;
  const leftSeconds = limits.timeoutSeconds - (performance.now() - started) / 1000;
  const left = decoded ? { ...limits, timeoutSeconds: Math.max(1, Math.floor(leftSeconds)) } : limits;
  try {
    return await resizeOriginal(input, spec, left);
  } finally {
    decoded?.release();
  }
}

async function resizeOriginal(input: Buffer, spec: OutputSpec, limits: ResizeLimits): Promise<Thumbnail[]> {
  try {
    return await images.runExclusive(() => attempt(input, spec, limits), 1);
  } catch (failure) {
    if (isPixelLimit(failure)) throw await withPixelCount(input, limits.maxInputPixels, failure);
    if (!(failure instanceof ImageFailure) || !REASON_FROM_LIBVIPS.has(failure.failureClass)) throw failure;
    // The reason came from libvips' error buffer, which is one per process: with other images in
    // flight it may have lost this image's line ("Unknown error") or carry another image's instead
    // (seen on a good share of damaged files with a few in flight). Run the image again with nothing else in
    // flight for its own reason. It fails again (decoding is deterministic), so this costs one more
    // decode of a bad file, during which this process resizes nothing else.
    return images.runExclusive(() => attempt(input, spec, limits), EXCLUSIVE);
  }
}

/** sharp refused the original from its header for having more pixels than limitInputPixels. */
function isPixelLimit(failure: unknown): failure is ImageFailure {
  if (!(failure instanceof ImageFailure) || failure.failureClass !== "TooLarge") return false;
  const cause = failure.cause instanceof Error ? failure.cause.message : "";
  return /pixel limit/i.test(cause);
}

/** sharp's message names no numbers: read the dimensions from the header for the admin. */
async function withPixelCount(input: Buffer, limit: number, failure: ImageFailure): Promise<ImageFailure> {
  // The header only: sharp's own default limit would refuse to read a bomb's dimensions.
  const header = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  return header ? tooManyPixels(header.width, header.height, limit) : failure;
}

/**
 * Classes whose reason is read from libvips' error buffer. TooLarge is not: the pixel limit is
 * sharp's own message, and a timeout is decided by the clock (running it again would only double it).
 */
const REASON_FROM_LIBVIPS: ReadonlySet<FailureClass> = new Set(["Corrupt", "Unsupported"]);
/** More than the images one process ever has in flight: taking all of it waits for every other. */
const EXCLUSIVE = 1_000;
/** Each image holds one permit while its pipelines run; a re-run for a clean reason holds them all. */
const images = new Semaphore(EXCLUSIVE);

async function attempt(input: Buffer, spec: OutputSpec, limits: ResizeLimits): Promise<Thumbnail[]> {
  const [largest, ...smaller] = [...spec.sizes].sort((a, b) => b.width * b.height - a.width * a.height);
  if (!largest) return [];
  const started = performance.now();
  try {
    const base = fromOriginal(input, spec, limits).resize(largest.width, largest.height, {
      fit: "inside",
      withoutEnlargement: true,
      kernel: LARGEST_KERNEL,
    });
    const large = await encode(base, largest, spec, limits);
    // Strictly inside the box on both sides: the original was smaller than the largest size.
    const notResized = large.width < largest.width && large.height < largest.height;
    // allSettled, not all: a rejection must not settle this image while its other pipelines still run
    // in libvips, or a re-run that needs nothing else in flight (makeThumbnails) would overlap them.
    const settled = await Promise.allSettled(
      smaller.map((size) =>
        encode(
          (notResized
            ? fromOriginal(input, spec, limits)
            : // Already oriented, sRGB, flat and without metadata: nothing to convert.
              sharp(large.data, { sequentialRead: true }).timeout({ seconds: limits.timeoutSeconds })
          ).resize(size.width, size.height, { fit: "inside", withoutEnlargement: true }),
          size,
          spec,
          limits,
        ),
      ),
    );
    const made = settled.map((r) => {
      if (r.status === "rejected") throw r.reason;
      return r.value;
    });
    return spec.sizes.map((s) => [large, ...made].find((t) => t.size.name === s.name)!);
  } catch (error) {
    // sharp shares one libvips error buffer per process: with several images in flight a message may
    // belong to another image, so the elapsed time decides whether a "timeout" was really this one's
    // (and makeThumbnails runs other failures again, alone, for their own reason).
    throw classifyDecodeError(error, {
      elapsedMs: performance.now() - started,
      timeoutSeconds: limits.timeoutSeconds,
    });
  }
}

/**
 * A pipeline over an original with every safeguard, oriented, in sRGB and, for JPEG output, flattened
 * on white. sharp applies its operations in a fixed order, so callers add the resize afterwards.
 */
function fromOriginal(input: Buffer, spec: OutputSpec, limits: ResizeLimits): Sharp {
  const pipeline = sharp(input, {
    // Checked against the header before any pixel is decoded: a decompression bomb fails as TooLarge.
    limitInputPixels: limits.maxInputPixels,
    // "error" rejects truncated files (Corrupt) rather than padding them with grey, yet tolerates mere
    // decoder warnings ("warning", sharp's default), which otherwise sound files can trigger.
    failOn: "error",
    // Top-to-bottom decode: libvips keeps a band of scanlines, never the whole decoded original.
    sequentialRead: true,
    autoOrient: true,
    // Animated or multi-page input: the first frame only.
    pages: 1,
  })
    .timeout({ seconds: limits.timeoutSeconds })
    .toColourspace("srgb");
  return spec.format === "jpeg" ? pipeline.flatten({ background: WHITE }) : pipeline;
}

async function encode(
  pipeline: Sharp,
  size: ThumbnailSize,
  spec: OutputSpec,
  limits: ResizeLimits,
): Promise<Thumbnail> {
  const formatted =
    spec.format === "jpeg"
      ? pipeline.jpeg({ quality: spec.quality, ...JPEG_OPTIONS })
      : pipeline.webp({ quality: spec.quality, effort: 2 });
  const { data, info } = await formatted
    .timeout({ seconds: limits.timeoutSeconds })
    .toBuffer({ resolveWithObject: true });
  return { size, data, width: info.width, height: info.height, contentType: CONTENT_TYPES[spec.format] };
}
