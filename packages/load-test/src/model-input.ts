import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_OUTPUT } from "@thumbs/core";
import { applyResizeSettings, makeThumbnails } from "@thumbs/worker";
import { type CorpusOptions, loadTestCorpus } from "./corpus.js";
import type { LoadTestResult } from "./result.js";
import { summarize } from "./stats.js";

/** What the model takes from a measurement. */
export interface MeasuredInput {
  cpuMsPerImage: number;
  maxOverAvg: number;
  meanImageBytes: number;
  source: string;
}

type Original = { path: string; bytes: number };

/** The newest `load-test-<time>.json` in a folder (the names sort by time), if any. */
export async function newestResult(outDir: string): Promise<string | undefined> {
  const names = await readdir(outDir).catch(() => [] as string[]);
  const results = names.filter((n) => /^load-test-\d{8}-\d{6}\.json$/.test(n)).sort();
  const newest = results.at(-1);
  return newest ? join(outDir, newest) : undefined;
}

/**
 * The originals whose resize time sets the model's MAX/AVG spread: `evenly` spread over the corpus
 * for the average, plus the `largest` few, where the slowest image is most likely to be.
 */
export function spreadSample<T extends Original>(files: readonly T[], evenly = 40, largest = 5): T[] {
  const step = Math.max(1, Math.floor(files.length / evenly));
  const picked = new Set(files.filter((_, i) => i % step === 0).slice(0, evenly));
  for (const f of [...files].sort((a, b) => b.bytes - a.bytes).slice(0, largest)) picked.add(f);
  return [...picked];
}

/**
 * CPU ms of resizing each original one at a time in this process, so each image's process CPU is
 * its own (CPU, not wall: this machine may be busy with other work). The first is resized once
 * untimed: it also loads libvips' codecs.
 */
export async function serialCpuMs(paths: readonly string[]): Promise<number[]> {
  const limits = { maxInputPixels: DEFAULT_MAX_INPUT_PIXELS, timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS };
  // Measured as the worker resizes: its sharp settings.
  applyResizeSettings();
  if (paths[0]) await makeThumbnails(await readFile(paths[0]), DEFAULT_OUTPUT, limits);
  const cpu: number[] = [];
  for (const path of paths) {
    const bytes = await readFile(path);
    const before = process.cpuUsage();
    await makeThumbnails(bytes, DEFAULT_OUTPUT, limits);
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  return cpu;
}

/**
 * The worker's CPU per image from a local run, and the MAX/AVG spread from resizing a sample of the
 * same originals one at a time (the run's own per-image times overlap, so their spread mostly shows
 * images sharing a core, which is not what a bigger Lambda sees).
 */
export async function measuredFromResult(
  path: string,
  status: (line: string) => void,
): Promise<MeasuredInput> {
  const result = JSON.parse(await readFile(path, "utf8")) as LoadTestResult;
  const b = result.baseline;
  if (!b || !(b.cpuMsPerImage > 0)) {
    throw new Error(
      `${path} has no pure-resize baseline (expected "baseline.cpuMsPerImage" > 0), so it gives no CPU time per image. ` +
        "Use the JSON of a local run made without --no-baseline, or pass --cpu-ms.",
    );
  }
  // What a worker burns per image on top of resizing (its S3 and Redis clients) is Lambda CPU too:
  // prefer the workers' own CPU per image when the run measured it.
  const run = result.runs[0];
  const workerCpu = run?.cpu && run.total > 0 ? run.cpu.workersMs / run.total : undefined;
  const originals = await listOriginals(result.corpus.dir);
  let spread = 2;
  let spreadSource = "slowest image assumed 2× the average: the corpus folder is gone";
  if (originals.length > 0) {
    const sample = spreadSample(originals);
    status(`Resizing ${sample.length} of the run's originals one at a time for the MAX/AVG spread…`);
    const s = summarize(await serialCpuMs(sample.map((o) => o.path)));
    spread = s.max / s.avg;
    spreadSource = `MAX/AVG from ${s.count} originals resized one at a time`;
  }
  return {
    cpuMsPerImage: workerCpu ?? b.cpuMsPerImage,
    maxOverAvg: spread,
    meanImageBytes: result.corpus.meanBytes,
    source:
      `${path}: ${workerCpu === undefined ? "pure resizing" : `the worker processes' CPU per image (pure resizing alone: ${b.cpuMsPerImage.toFixed(1)} ms, so ${(workerCpu / b.cpuMsPerImage).toFixed(2)}× it; the rest is the worker's S3 and Redis clients, sockets and GC)`}` +
      ` on ${result.machine.cpuModel}; ${spreadSource}`,
  };
}

async function listOriginals(dir: string): Promise<Original[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(
    names
      .filter((n) => !n.startsWith("."))
      .sort()
      .map(async (n) => ({ path: join(dir, n), bytes: (await stat(join(dir, n))).size })),
  );
}

/** A quick in-process measurement: a few corpus photos resized one at a time, CPU per image. */
export async function quickMeasurement(
  corpus: Omit<CorpusOptions, "images">,
  count = 12,
): Promise<MeasuredInput> {
  const { files, totalBytes } = await loadTestCorpus({ ...corpus, images: count });
  const s = summarize(await serialCpuMs(files.map((f) => f.path)));
  return {
    cpuMsPerImage: s.avg,
    maxOverAvg: s.max / s.avg,
    meanImageBytes: totalBytes / files.length,
    source: `quick in-process measurement: ${count} photos of ~${corpus.megapixels} MP resized one at a time (pure resizing: the worker's S3 and Redis client CPU is not included)`,
  };
}
