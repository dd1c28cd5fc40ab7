import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { renderHtmlReport } from "./report-html.js";
import type { LoadTestResult } from "./result.js";

/** "20250131-154502" from a date: sortable, and safe in file names on every OS. */
export function compactTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/-|:/g, "").replace("T", "-");
}

/** What the report says about the machine a local run measured. */
export function machineInfo(): LoadTestResult["machine"] {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown CPU",
    totalMemoryBytes: totalmem(),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Writes `<out>/<name>-<timestamp>.json` and `.html`; returns their absolute paths. */
export async function writeReports(
  outDir: string,
  result: LoadTestResult,
  name = "load-test",
): Promise<{ json: string; html: string }> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const stem = join(dir, `${name}-${compactTimestamp(new Date(result.startedAt))}`);
  const files = { json: `${stem}.json`, html: `${stem}.html` };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.html, await renderHtmlReport(result));
  return files;
}
