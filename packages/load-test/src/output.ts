import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import type { Corpus, CorpusOptions } from "./corpus.js";
import { renderHtmlReport } from "./report-html.js";
import { renderTextReport } from "./report-text.js";
import type { LoadTestResult } from "./result.js";

/** What a load test hands the CLI: the result, where its reports were written, and the text report. */
export interface LoadTestOutcome {
  result: LoadTestResult;
  files: { json: string; html: string };
  lines: string[];
}

/** "20250131-154502" from a date: sortable, and safe in file names on every OS. */
export function compactTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/-|:/g, "").replace("T", "-");
}

/** What every result starts with, local or AWS: when, on which machine, and which order of originals. */
export function resultHeader(
  target: LoadTestResult["target"],
  startedAt: Date,
  options: CorpusOptions,
  corpus: Corpus,
  pipeline: Omit<LoadTestResult["config"], "images" | "seed" | "megapixels" | "sizeMb" | "detail">,
): Pick<LoadTestResult, "version" | "target" | "startedAt" | "machine" | "config" | "corpus"> {
  const { images, seed, megapixels, sizeMb } = options;
  return {
    version: 1,
    target,
    startedAt: startedAt.toISOString(),
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim() ?? "unknown CPU",
      totalMemoryBytes: totalmem(),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    },
    config: { images, seed, megapixels, sizeMb, detail: corpus.detail, ...pipeline },
    corpus: {
      dir: resolve(corpus.dir),
      images: corpus.files.length,
      totalBytes: corpus.totalBytes,
      meanBytes: corpus.totalBytes / Math.max(1, corpus.files.length),
      detailSource: corpus.detailSource,
    },
  };
}

/** Writes `<out>/load-test-<timestamp>.json` and `.html`, and renders the text report. */
export async function writeResult(outDir: string, result: LoadTestResult): Promise<LoadTestOutcome> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const stem = join(dir, `load-test-${compactTimestamp(new Date(result.startedAt))}`);
  const files = { json: `${stem}.json`, html: `${stem}.html` };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.html, await renderHtmlReport(result));
  return { result, files, lines: renderTextReport(result) };
}
