import { createCipheriv, createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import sharp, { type OverlayOptions } from "sharp";

/**
 * Deterministic pseudo-random bytes: AES-256-CTR over zeros, keyed by the seed. Same seed, same bytes,
 * on every machine, so generated corpora are reproducible and cacheable.
 */
export function seededBytes(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

export interface PhotoSpec {
  seed: string;
  width: number;
  height: number;
  /** EXIF orientation 1-8 to write (default: none). */
  orientation?: number;
  quality?: number;
  /** Texture strength: higher → more detail → larger file (default 1). */
  detail?: number;
  /**
   * Mid-scale structure, 0-1 (default 0 = none): soft blotches and hard-edged blocks at several
   * scales, so the image still has detail after a 3-8× reduction, as a real photo does (fine grain
   * alone averages away, leaving thumbnails unrealistically cheap to encode).
   */
  texture?: number;
}

export type PhotoFormat = "jpeg" | "png" | "webp";

/**
 * A photo-like JPEG: smooth colour fields (a small random image upscaled) under fine grain, so it
 * compresses and decodes like a camera photo rather than like a flat test card or pure noise.
 */
export const photoLikeJpeg = (spec: PhotoSpec): Promise<Buffer> => photoLikeImage(spec, "jpeg");

/** The same photo-like picture in any of the formats phones, cameras and editors write. */
export async function photoLikeImage(spec: PhotoSpec, format: PhotoFormat): Promise<Buffer> {
  const { seed, width, height, quality = 88, detail = 1, texture = 0 } = spec;
  const gridW = 12;
  const gridH = 9;
  const colours = seededBytes(`${seed}:colours`, gridW * gridH * 3);
  // The grain tile repeats across the image; it may be no larger than the image itself.
  const tile = Math.min(256, width, height);
  const grain = seededBytes(`${seed}:grain`, tile * tile);
  // Centre the grain on mid-grey so "soft-light" brightens and darkens around the colour field.
  const amplitude = Math.min(1, 0.35 * detail);
  for (let i = 0; i < grain.length; i++) grain[i] = 128 + Math.round((grain[i]! - 128) * amplitude);
  const field = await sharp(colours, { raw: { width: gridW, height: gridH, channels: 3 } })
    .resize(width, height, { kernel: "cubic", fit: "fill" })
    .raw()
    .toBuffer();
  let image = sharp(field, { raw: { width, height, channels: 3 } }).composite([
    ...(texture > 0 ? await textureLayers(seed, width, height, texture) : []),
    { input: grain, raw: { width: tile, height: tile, channels: 1 }, tile: true, blend: "soft-light" },
  ]);
  if (format === "jpeg") image = image.jpeg({ quality, chromaSubsampling: "4:2:0" });
  // Level 6 is what photo editors and browsers write by default: PNG photos are large and slow to encode.
  else if (format === "png") image = image.png({ compressionLevel: 6 });
  else image = image.webp({ quality });
  if (spec.orientation) image = image.withMetadata({ orientation: spec.orientation });
  return image.toBuffer();
}

/** Grey layers at three scales, centred on mid-grey so "soft-light" adds structure without a colour cast. */
async function textureLayers(
  seed: string,
  width: number,
  height: number,
  strength: number,
): Promise<OverlayOptions[]> {
  const amplitude = Math.min(1, strength);
  // Cells across the width, and how each grid is enlarged: "nearest" gives the hard edges photos have.
  const octaves = [
    { cells: 48, kernel: "cubic" },
    { cells: 160, kernel: "nearest" },
    { cells: 480, kernel: "cubic" },
  ] as const;
  return Promise.all(
    octaves.map(async ({ cells, kernel }, i) => {
      const gridW = Math.min(cells, width);
      const gridH = Math.max(1, Math.round((gridW * height) / width));
      const values = seededBytes(`${seed}:texture${i}`, gridW * gridH);
      for (let k = 0; k < values.length; k++) values[k] = 128 + Math.round((values[k]! - 128) * amplitude);
      const layer = await sharp(values, { raw: { width: gridW, height: gridH, channels: 1 } })
        .resize(width, height, { kernel, fit: "fill" })
        .raw()
        .toBuffer();
      return { input: layer, raw: { width, height, channels: 1 as const }, blend: "soft-light" as const };
    }),
  );
}

export interface SampleImage {
  name: string;
  data: Buffer;
}

export interface SampleOptions {
  seed?: string;
  megapixels?: number;
  detail?: number;
  /** JPEG quality of the originals (default 88). */
  quality?: number;
  /** Mid-scale structure (default 0), see PhotoSpec.texture. */
  texture?: number;
}

/** The file name of photo `index` in a sample set. */
export const samplePhotoName = (index: number): string => `photo-${String(index).padStart(5, "0")}.jpg`;

/**
 * Photo `index` of a deterministic set of photo-like JPEGs of mixed sizes around `megapixels`; every
 * 7th carries an EXIF orientation (6 = rotate 90°), as phone photos often do. Each photo depends only
 * on the seed and its index, so a set can be generated in any order, or resumed.
 */
export async function samplePhoto(index: number, options: SampleOptions = {}): Promise<SampleImage> {
  const { seed = "thumbs", megapixels = 2, detail = 1, quality = 88, texture = 0 } = options;
  const jitter = seededBytes(`${seed}:${index}:dims`, 2);
  const mp = megapixels * (0.75 + (jitter[0]! / 255) * 0.5);
  const landscape = jitter[1]! % 3 !== 0;
  const long = Math.round(Math.sqrt((mp * 1e6 * 4) / 3));
  const short = Math.round((long * 3) / 4);
  const data = await photoLikeJpeg({
    seed: `${seed}:${index}`,
    width: landscape ? long : short,
    height: landscape ? short : long,
    detail,
    quality,
    texture,
    ...(index % 7 === 3 ? { orientation: 6 } : {}),
  });
  return { name: samplePhotoName(index), data };
}

/** Photos `offset` … `offset + count - 1` of a sample set (see samplePhoto), one per core at a time. */
export async function samplePhotos(
  count: number,
  options: SampleOptions & { offset?: number } = {},
): Promise<SampleImage[]> {
  const { offset = 0, ...rest } = options;
  const limit = generationLimit();
  return Promise.all(Array.from({ length: count }, (_, k) => limit(() => samplePhoto(offset + k, rest))));
}

/**
 * One photo per core at a time: a process that imported the worker runs libvips single-threaded
 * (resize.ts), and a 1,000-image corpus generated one by one took half an hour on two cores.
 */
export const generationLimit = () => pLimit(availableParallelism());

/** Broken inputs every demo and test should survive: each must end as one classified error record. */
export async function brokenSamples(
  seed = "broken",
): Promise<Array<SampleImage & { expectedClass: string }>> {
  const good = await photoLikeJpeg({ seed, width: 800, height: 600 });
  return [
    {
      name: "broken-truncated.jpg",
      data: good.subarray(0, Math.floor(good.length / 2)),
      expectedClass: "Corrupt",
    },
    { name: "broken-zero-bytes.jpg", data: Buffer.alloc(0), expectedClass: "Corrupt" },
    {
      name: "broken-text.jpg",
      data: Buffer.from("This is a shipping note, not a photo.\n".repeat(20)),
      expectedClass: "Unsupported",
    },
  ];
}
