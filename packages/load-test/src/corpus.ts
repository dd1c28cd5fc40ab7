import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { cachedPhotos, samplePhotos, uploadOrder } from "@thumbs/local";
import { z } from "zod";
import type { Progress } from "./progress.js";

export interface CorpusOptions {
  images: number;
  seed: string;
  megapixels: number;
  /** Target mean size of one original, in MB (10^6 bytes). Ignored when `detail` is given. */
  sizeMb: number;
  /** Generator texture strength; when unset it is calibrated to hit `sizeMb`. */
  detail?: number | undefined;
  cacheDir: string;
}

export interface Corpus {
  dir: string;
  files: Array<{ name: string; path: string; bytes: number }>;
  totalBytes: number;
  megapixels: number;
  detail: number;
  /** How `detail` was chosen: given on the command line, calibrated now, or read from the cache. */
  detailSource: "option" | "calibrated" | "cached calibration";
}

/** Mean size in MB of photos generated with a given detail (a probe, or a fake in tests). */
export type SizeProbe = (detail: number) => Promise<number>;

// Two probes far enough apart that their slope is stable: file size is close to linear in detail.
const PROBE_LOW = 0.25;
const PROBE_HIGH = 0.5;

/**
 * The generator's `detail` that gives photos of `targetMb` on average, by linear interpolation
 * between two probes. Rounded to 0.01 so the corpus cache key is stable from run to run.
 */
export async function calibrateDetail(targetMb: number, probe: SizeProbe): Promise<number> {
  const low = await probe(PROBE_LOW);
  const high = await probe(PROBE_HIGH);
  if (!(high > low)) {
    throw new Error(
      `Cannot calibrate the photo size: detail ${PROBE_HIGH} gave ${high.toFixed(3)} MB, not more than ${low.toFixed(3)} MB at detail ${PROBE_LOW}. ` +
        "Pass --detail to choose the generator's texture strength yourself.",
    );
  }
  const detail = PROBE_LOW + ((targetMb - low) * (PROBE_HIGH - PROBE_LOW)) / (high - low);
  return Math.round(Math.min(4, Math.max(0.01, detail)) * 100) / 100;
}

/** Probes the real generator: the mean size of a few photos at `megapixels`. */
function generatorProbe(seed: string, megapixels: number, count = 4): SizeProbe {
  return async (detail) => {
    const photos = await samplePhotos(count, { seed: `${seed}-calibration`, megapixels, detail });
    return photos.reduce((sum, p) => sum + p.data.length, 0) / count / 1e6;
  };
}

/**
 * The load test's order: `images` deterministic photo-like JPEGs from the shared generator, cached
 * on disk by their parameters (@thumbs/local cachedPhotos), so only the first run pays for them.
 */
export async function loadTestCorpus(
  options: CorpusOptions,
  onStatus: (line: string) => void = () => {},
): Promise<Corpus> {
  let detail = options.detail;
  let detailSource: Corpus["detailSource"] = "option";
  if (detail === undefined) {
    const calibration = await cachedCalibration(options, onStatus);
    detail = calibration.detail;
    detailSource = calibration.cached ? "cached calibration" : "calibrated";
  }
  const { dir, files } = await cachedPhotos(options.cacheDir, options.images, {
    seed: options.seed,
    megapixels: options.megapixels,
    detail,
  });
  const sized = await Promise.all(
    files.map(async (path) => ({ name: basename(path), path, bytes: (await stat(path)).size })),
  );
  return {
    dir,
    files: sized,
    totalBytes: sized.reduce((sum, f) => sum + f.bytes, 0),
    megapixels: options.megapixels,
    detail,
    detailSource,
  };
}

const CalibrationSchema = z.record(z.string(), z.number());

async function cachedCalibration(
  options: CorpusOptions,
  onStatus: (line: string) => void,
): Promise<{ detail: number; cached: boolean }> {
  const file = join(options.cacheDir, "load-test-calibration.json");
  const key = `${options.seed}|${options.megapixels}mp|${options.sizeMb}MB`;
  // load-test-calibration.json maps seed, megapixels and size to detail; a missing or unreadable one is rewritten.
  const known = await readFile(file, "utf8")
    .then((text) => CalibrationSchema.parse(JSON.parse(text)))
    .catch((): Record<string, number> => ({}));
  const hit = known[key];
  if (hit !== undefined) return { detail: hit, cached: true };
  onStatus(`Calibrating the photo generator for ${options.sizeMb} MB at ${options.megapixels} MP…`);
  const detail = await calibrateDetail(options.sizeMb, generatorProbe(options.seed, options.megapixels));
  await mkdir(options.cacheDir, { recursive: true });
  await writeFile(file, `${JSON.stringify({ ...known, [key]: detail }, null, 2)}\n`);
  return { detail, cached: false };
}

// Uploading in chunks only to move the progress bar; uploadOrder itself keeps 16 PUTs in flight.
const UPLOAD_CHUNK = 50;

/** Uploads originals under `prefix`, as the backend does before emitting order-completed. */
export async function uploadOriginals(
  s3: S3Client,
  bucket: string,
  prefix: string,
  files: Corpus["files"],
  progress: Progress,
): Promise<void> {
  progress.start("Uploading", files.length);
  for (let start = 0; start < files.length; start += UPLOAD_CHUNK) {
    await uploadOrder(s3, bucket, prefix, files.slice(start, start + UPLOAD_CHUNK));
    progress.update(Math.min(files.length, start + UPLOAD_CHUNK));
  }
  progress.stop();
}
