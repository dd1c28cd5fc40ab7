import type { OutputSpec, ThumbnailSize } from "@thumbs/core";
import { CONTENT_TYPES, classifyDecodeError } from "@thumbs/core";
import sharp, { type Sharp } from "sharp";

// Each image is worked on by one libvips thread; parallelism comes from resizing several images at
// once (see concurrency.ts), which scales better than splitting one small image across threads.
sharp.concurrency(1);
// A worker sees every original once: caching decoded inputs only costs memory.
sharp.cache(false);

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
 * Makes every thumbnail of `spec` from one decode of `input`.
 *
 * The largest size is made first, straight from the original: libvips then shrinks JPEG and WebP on
 * load (decoding at 1/2, 1/4 or 1/8 scale) as far as that size allows, orients it from EXIF, converts
 * it to sRGB using any embedded ICC profile, and flattens transparency for JPEG. Its pixels stay in
 * memory, and every smaller size is resized from them: far fewer pixels than a second decode, and
 * from an image already at least as sharp as the smaller size needs.
 */
export async function makeThumbnails(
  input: Buffer,
  spec: OutputSpec,
  limits: ResizeLimits,
): Promise<Thumbnail[]> {
  const [largest, ...smaller] = [...spec.sizes].sort((a, b) => b.width * b.height - a.width * a.height);
  if (!largest) return [];
  try {
    let base = sharp(input, {
      limitInputPixels: limits.maxInputPixels,
      failOn: "error",
      sequentialRead: true,
      autoOrient: true,
      pages: 1,
    })
      .timeout({ seconds: limits.timeoutSeconds })
      .resize(largest.width, largest.height, { fit: "inside", withoutEnlargement: true })
      .toColourspace("srgb");
    if (spec.format === "jpeg") base = base.flatten({ background: WHITE });
    const decoded = await base.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    const raw = {
      raw: { width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels },
    };
    return await Promise.all([
      encode(sharp(decoded.data, raw), largest, spec, limits),
      ...smaller.map((size) =>
        encode(
          sharp(decoded.data, raw).resize(size.width, size.height, {
            fit: "inside",
            withoutEnlargement: true,
          }),
          size,
          spec,
          limits,
        ),
      ),
    ]).then((made) => spec.sizes.map((s) => made.find((t) => t.size.name === s.name)!));
  } catch (error) {
    throw classifyDecodeError(error);
  }
}

async function encode(
  pipeline: Sharp,
  size: ThumbnailSize,
  spec: OutputSpec,
  limits: ResizeLimits,
): Promise<Thumbnail> {
  const formatted =
    spec.format === "jpeg"
      ? pipeline.jpeg({ quality: spec.quality, progressive: false, chromaSubsampling: "4:2:0" })
      : pipeline.webp({ quality: spec.quality, effort: 2 });
  const { data, info } = await formatted
    .timeout({ seconds: limits.timeoutSeconds })
    .toBuffer({ resolveWithObject: true });
  return { size, data, width: info.width, height: info.height, contentType: CONTENT_TYPES[spec.format] };
}
