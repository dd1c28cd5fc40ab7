import { type PhotoFormat, photoLikeImage, type SampleImage, seededBytes } from "./sample-images.js";

/** What one photo of a camera-style set will be, known before any pixel is made. */
export interface CameraPhotoSpec {
  name: string;
  format: PhotoFormat;
  width: number;
  height: number;
  quality: number;
  detail: number;
  orientation?: number;
}

interface Profile {
  /** The file name a device or editor would give photo number `n`. */
  name: (n: number) => string;
  format: PhotoFormat;
  megapixels: number;
  quality: number;
  /** Grain strength: with `megapixels` and `quality`, what sets the file size (see PhotoSpec.detail). */
  detail: number;
  orientation?: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/**
 * What real orders mix: phone JPEGs (some rotated by EXIF), full-size camera JPEGs and PNG exports
 * over 11 MB, WebP from the web, under names with upper-case extensions, spaces, accents and the
 * "(1)" a second download gets. One cycle of eight, so even a small set has every kind in it.
 */
const PROFILES: readonly Profile[] = [
  {
    name: (n) => `IMG_${pad(n, 4)}.JPG`,
    format: "jpeg",
    megapixels: 12,
    quality: 90,
    detail: 1,
    orientation: 6,
  },
  { name: (n) => `DSC ${pad(n, 4)}.jpeg`, format: "jpeg", megapixels: 24, quality: 95, detail: 2 },
  { name: (n) => `Été à Nice ${pad(n, 2)}.png`, format: "png", megapixels: 8, quality: 100, detail: 0.5 },
  {
    name: (n) => `PXL_20240612_${pad(91_500 + n, 6)}.jpg`,
    format: "jpeg",
    megapixels: 12.5,
    quality: 85,
    detail: 1,
  },
  { name: (n) => `Sagrada Família ${n}.webp`, format: "webp", megapixels: 10, quality: 80, detail: 1 },
  {
    name: (n) => `IMG_${pad(n, 4)}.jpg`,
    format: "jpeg",
    megapixels: 16,
    quality: 88,
    detail: 1,
    orientation: 3,
  },
  { name: (n) => `DSC_${pad(n, 4)}.JPG`, format: "jpeg", megapixels: 20, quality: 92, detail: 1.5 },
  { name: (n) => `Mañana en la playa ${n} (1).WEBP`, format: "webp", megapixels: 8, quality: 75, detail: 1 },
];

/**
 * Photo `index` of a camera-style set: its name, format and size. Numbers count up from 42 across
 * the whole set, so no two names differ only by case (they would collide on macOS and Windows).
 * Sizes vary ±10% around each profile's, and one photo in three is portrait.
 */
export function cameraPhotoSpec(index: number, seed = "camera"): CameraPhotoSpec {
  const profile = PROFILES[index % PROFILES.length]!;
  const jitter = seededBytes(`${seed}:${index}:dims`, 2);
  const mp = profile.megapixels * (0.9 + (jitter[0]! / 255) * 0.2);
  const long = Math.round(Math.sqrt((mp * 1e6 * 4) / 3));
  const short = Math.round((long * 3) / 4);
  const portrait = jitter[1]! % 3 === 0;
  return {
    name: profile.name(42 + index),
    format: profile.format,
    width: portrait ? short : long,
    height: portrait ? long : short,
    quality: profile.quality,
    detail: profile.detail,
    ...(profile.orientation ? { orientation: profile.orientation } : {}),
  };
}

/** Renders photo `index` of a camera-style set (see cameraPhotoSpec). */
export async function cameraPhoto(index: number, seed = "camera"): Promise<SampleImage> {
  const spec = cameraPhotoSpec(index, seed);
  const data = await photoLikeImage(
    {
      seed: `${seed}:${index}`,
      width: spec.width,
      height: spec.height,
      quality: spec.quality,
      detail: spec.detail,
      // Mid-scale structure keeps thumbnails as costly to encode as a real photo's (see PhotoSpec).
      texture: 0.4,
      ...(spec.orientation ? { orientation: spec.orientation } : {}),
    },
    spec.format,
  );
  return { name: spec.name, data };
}
