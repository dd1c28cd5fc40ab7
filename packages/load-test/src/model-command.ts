import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_OUTPUT } from "@thumbs/core";
import { applyHeapSettings, applyResizeSettings, makeThumbnails } from "@thumbs/worker";
import { z } from "zod";
import { type CorpusOptions, loadTestCorpus } from "./corpus.js";
import { DEFAULT_ASSUMPTIONS, type ModelAssumptions, pickConfigurations, predictGrid } from "./model.js";
import { renderModelReport } from "./model-report.js";
import { compactTimestamp } from "./report.js";
import { summarize } from "./stats.js";

export interface ModelOptions {
  from?: string | undefined;
  cpuMs?: number | undefined;
  overrides: Partial<ModelAssumptions>;
  corpus: Omit<CorpusOptions, "images">;
  images: number;
  outDir: string;
}

interface MeasuredInput {
  cpuMsPerImage: number;
  maxOverAvg: number;
  meanImageBytes: number;
  source: string;
}

/**
 * The `model` command: reads or measures the per-image CPU time, predicts every worker memory × slice
 * size, and writes `load-test-model-<time>.json` beside the text report it returns.
 */
export async function runModel(
  options: ModelOptions,
  status: (line: string) => void,
): Promise<{ lines: string[]; json: string }> {
  const measured = await measuredInput(options, status);
  const assumptions: ModelAssumptions = {
    ...DEFAULT_ASSUMPTIONS,
    cpuMsPerImage: measured.cpuMsPerImage,
    maxOverAvg: measured.maxOverAvg,
    meanImageBytes: measured.meanImageBytes,
    images: options.images,
    ...options.overrides,
  };
  const predictions = predictGrid(assumptions);
  const picks = pickConfigurations(predictions);
  const dir = resolve(options.outDir);
  await mkdir(dir, { recursive: true });
  const json = join(dir, `load-test-model-${compactTimestamp(new Date())}.json`);
  const model = { version: 1, source: measured.source, assumptions, picks, predictions };
  await writeFile(json, `${JSON.stringify(model, null, 2)}\n`);
  return { lines: renderModelReport(assumptions, measured.source, predictions, picks), json };
}

async function measuredInput(options: ModelOptions, status: (line: string) => void): Promise<MeasuredInput> {
  if (options.cpuMs !== undefined) {
    return {
      cpuMsPerImage: options.cpuMs,
      maxOverAvg: 2,
      meanImageBytes: options.corpus.sizeMb * 1e6,
      source: "--cpu-ms (slowest image assumed 2× the average)",
    };
  }
  const path = options.from ?? (await newestResult(options.outDir));
  if (path) return measuredFromResult(path, status);
  status(
    `No load-test result in ${options.outDir} (run \`pnpm load-test\` first, or pass --from / --cpu-ms): measuring a few photos now…`,
  );
  const { files, totalBytes } = await loadTestCorpus({ ...options.corpus, images: 12 });
  const s = summarize(await serialCpuMs(files.map((f) => f.path)));
  return {
    cpuMsPerImage: s.avg,
    maxOverAvg: s.max / s.avg,
    meanImageBytes: totalBytes / files.length,
    source: `quick in-process measurement: ${files.length} photos of ~${options.corpus.megapixels} MP resized one at a time (pure resizing: the worker's S3 and Redis client CPU is not included)`,
  };
}

/**
 * The newest `load-test-<time>.json` in a folder (the names sort by time) that measured pure resizing:
 * a `--no-baseline` run after it does not hide it.
 */
async function newestResult(outDir: string): Promise<string | undefined> {
  const names = await readdir(outDir).catch(() => [] as string[]);
  const results = names
    .filter((n) => /^load-test-\d{8}-\d{6}\.json$/.test(n))
    .sort()
    .reverse();
  for (const name of results) {
    const parsed = ResultSchema.safeParse(
      await readFile(join(outDir, name), "utf8").then(JSON.parse, () => null),
    );
    if (parsed.success && parsed.data.baseline) return join(outDir, name);
  }
  return results.length > 0 ? join(outDir, results[0]!) : undefined;
}

/**
 * The worker's CPU per image from a local run, and the MAX/AVG spread from resizing a sample of the
 * same originals one at a time (the run's own per-image times overlap, so their spread mostly shows
 * images sharing a core, which is not what a bigger Lambda sees).
 */
/** The fields of a local run's result (result.ts) the model reads; the file is the user's to point at. */
const ResultSchema = z.object({
  machine: z.object({ cpuModel: z.string() }),
  corpus: z.object({ dir: z.string(), meanBytes: z.number() }),
  baseline: z.object({ cpuMsPerImage: z.number() }).optional(),
  runs: z.array(z.object({ total: z.number(), cpu: z.object({ workersMs: z.number() }).optional() })),
});

export async function measuredFromResult(
  path: string,
  status: (line: string) => void,
): Promise<MeasuredInput> {
  const parsed = ResultSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) {
    throw new Error(`${path} is not a local load-test result: ${z.prettifyError(parsed.error)}`);
  }
  const result = parsed.data;
  const pure = result.baseline?.cpuMsPerImage;
  if (!pure)
    throw new Error(
      `${path} has no pure-resize baseline: use a local run made without --no-baseline, or --cpu-ms.`,
    );
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
  const cpu =
    workerCpu === undefined
      ? "pure resizing"
      : `the worker processes' CPU per image (pure resizing alone: ${pure.toFixed(1)} ms, so ${(workerCpu / pure).toFixed(2)}× it; the rest is the worker's S3 and Redis clients, sockets and GC)`;
  return {
    cpuMsPerImage: workerCpu ?? pure,
    maxOverAvg: spread,
    meanImageBytes: result.corpus.meanBytes,
    source: `${path}: ${cpu} on ${result.machine.cpuModel}; ${spreadSource}`,
  };
}

type Original = { path: string; bytes: number };

async function listOriginals(dir: string): Promise<Original[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = names.filter((n) => !n.startsWith(".")).sort();
  return Promise.all(
    files.map(async (n) => ({ path: join(dir, n), bytes: (await stat(join(dir, n))).size })),
  );
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
async function serialCpuMs(paths: readonly string[]): Promise<number[]> {
  const limits = { maxInputPixels: DEFAULT_MAX_INPUT_PIXELS, timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS };
  // Measured as the worker resizes: its sharp and heap settings.
  applyResizeSettings();
  applyHeapSettings();
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
