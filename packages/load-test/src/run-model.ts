import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { CorpusOptions } from "./corpus.js";
import {
  DEFAULT_ASSUMPTIONS,
  type ModelAssumptions,
  type Picks,
  type Prediction,
  pickConfigurations,
  predictGrid,
} from "./model.js";
import { type MeasuredInput, measuredFromResult, newestResult, quickMeasurement } from "./model-input.js";
import { renderModelHtml, renderModelReport } from "./model-report.js";
import { compactTimestamp } from "./output.js";

export interface ModelCommandOptions {
  /** A local run's JSON; default: the newest in `outDir`. */
  from?: string | undefined;
  /** Per-image CPU ms given directly (skips reading or measuring). */
  cpuMs?: number | undefined;
  overrides: Partial<ModelAssumptions>;
  corpus: Omit<CorpusOptions, "images">;
  images: number;
  outDir: string;
}

/** `--model`: reads or measures the per-image CPU time, predicts every configuration, writes the report. */
export async function runModel(
  options: ModelCommandOptions,
  status: (line: string) => void,
): Promise<{
  lines: string[];
  predictions: Prediction[];
  picks: Picks;
  files: { json: string; html: string };
}> {
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
  const lines = renderModelReport(assumptions, measured.source, predictions, picks);

  const dir = resolve(options.outDir);
  await mkdir(dir, { recursive: true });
  const stem = join(dir, `load-test-model-${compactTimestamp(new Date())}`);
  const files = { json: `${stem}.json`, html: `${stem}.html` };
  await writeFile(
    files.json,
    `${JSON.stringify({ version: 1, source: measured.source, assumptions, picks, predictions }, null, 2)}\n`,
  );
  await writeFile(files.html, await renderModelHtml(lines, predictions));
  return { lines, predictions, picks, files };
}

async function measuredInput(
  options: ModelCommandOptions,
  status: (line: string) => void,
): Promise<MeasuredInput> {
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
  return quickMeasurement(options.corpus);
}
