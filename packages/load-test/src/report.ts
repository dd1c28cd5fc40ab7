import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { runCharts } from "./charts.js";
import type { Corpus, CorpusOptions } from "./corpus.js";
import { FAN_OUT_AIM } from "./overhead.js";
import type { LoadTestResult, RunResult } from "./result.js";
import type { Summary } from "./stats.js";

/** Milliseconds as "845.2 ms" or "12.35 s"; "–" when unknown. */
export const ms = (v: number) =>
  !Number.isFinite(v) ? "–" : Math.abs(v) < 1000 ? `${v.toFixed(1)} ms` : `${(v / 1000).toFixed(2)} s`;

/** Bytes in decimal units (MB = 10^6), as file sizes and S3 are billed. */
export function bytes(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return v >= 1e9
    ? `${(v / 1e9).toFixed(2)} GB`
    : v >= 1e6
      ? `${(v / 1e6).toFixed(1)} MB`
      : `${(v / 1e3).toFixed(1)} kB`;
}

const percent = (share: number | null) => (share === null ? "unknown" : `${(share * 100).toFixed(0)}%`);
const row = (label: string, value: string) => `  ${label.padEnd(20)} ${value}`;
const summaryLine = (s: Summary) =>
  s.count === 0
    ? "no samples"
    : `avg ${ms(s.avg)}  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  max ${ms(s.max)}  (n=${s.count})`;

/** "20250131-154502": sortable, and safe in file names on every OS. */
export const compactTimestamp = (date: Date) =>
  date.toISOString().slice(0, 19).replace(/-|:/g, "").replace("T", "-");

/** What every result starts with, local or AWS: when, on which machine, and which order of originals. */
export function resultHeader(
  target: LoadTestResult["target"],
  startedAt: Date,
  { images, seed, megapixels, sizeMb }: CorpusOptions,
  corpus: Corpus,
  pipeline: Omit<LoadTestResult["config"], "images" | "seed" | "megapixels" | "sizeMb" | "detail">,
): Pick<LoadTestResult, "version" | "target" | "startedAt" | "machine" | "config" | "corpus"> {
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

export interface LoadTestOutcome {
  result: LoadTestResult;
  files: { json: string; html: string };
  lines: string[];
}

/** Writes `<out>/load-test-<timestamp>.json` and `.html`, and renders the text report. */
export async function writeResult(outDir: string, result: LoadTestResult): Promise<LoadTestOutcome> {
  await mkdir(resolve(outDir), { recursive: true });
  const stem = join(resolve(outDir), `load-test-${compactTimestamp(new Date(result.startedAt))}`);
  const files = { json: `${stem}.json`, html: `${stem}.html` };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.html, await renderHtmlReport(result));
  return { result, files, lines: renderTextReport(result) };
}

/** The readable report printed after a run, one line per entry. */
export function renderTextReport(result: LoadTestResult): string[] {
  const { config: c, corpus, baseline: b, overhead: o } = result;
  const where =
    result.target === "local"
      ? `local, ${c.workers} worker processes × ${c.concurrencyPerWorker} images in flight`
      : `AWS stack ${c.stackName}, worker ${c.workerMemoryMb ?? "?"} MB`;
  const lines = [
    "",
    `Load test (${where}, slices of ${c.sliceSize})`,
    `  order of ${corpus.images} photo-like JPEGs, ${bytes(corpus.totalBytes)} (mean ${bytes(corpus.meanBytes)}, ~${c.megapixels} MP, seed "${c.seed}", detail ${c.detail})`,
    ...result.runs.flatMap((run) => renderRun(run, result.target)),
  ];
  if (b) {
    const brackets = result.baselineBrackets ?? [];
    lines.push(
      "",
      `Pure resizing, same originals from memory (${b.processes} processes × ${b.inFlightPerProcess} images in flight, no S3/SNS/Redis; mean of the runs before and after the pipeline)`,
      row("per image", summaryLine(b.perImageMs)),
      row("CPU per image", `${ms(b.cpuMsPerImage)} (process CPU ÷ images)`),
      ...brackets.map((r) =>
        row(
          `  ${r.when} the pipeline`,
          `${ms(r.cpuMsPerImage)} CPU per image, wall ${ms(r.wallMs)}; other processes used ${percent(r.otherLoadShare)} of the machine`,
        ),
      ),
    );
  }
  if (o) {
    const w = o.workerCpu;
    lines.push(
      "",
      row(
        "overhead ratio",
        `${o.ratio.toFixed(3)}  goal ≤ ${o.goal.toFixed(2)}: ${o.verdict}   (cross-check: wall ÷ pure-resize wall = ${o.wallOverBaselineWall.toFixed(3)})`,
      ),
      ...(o.split
        ? [row("  = fan-out × per image", `${o.split.fanOut.toFixed(3)} × ${o.split.perImage.toFixed(3)}`)]
        : []),
      ...(o.split?.withinInvocations && o.split.betweenInvocations
        ? [
            row(
              "    fan-out",
              `= within invocations ${o.split.withinInvocations.toFixed(3)} (aim ≤ ${FAN_OUT_AIM.toFixed(2)}: ${o.split.withinInvocations <= FAN_OUT_AIM ? "PASS" : "MISS"}) × between invocations ${o.split.betweenInvocations.toFixed(3)}`,
            ),
          ]
        : []),
      row(
        "CPU ratio",
        o.cpuRatio === null
          ? "not measured (a worker process did not report its CPU)"
          : `${o.cpuRatio.toFixed(3)}  (pipeline CPU ÷ pure-resize CPU, same images)`,
      ),
      ...(w
        ? [
            row(
              "worker CPU ratio",
              `${w.ratio.toFixed(3)}  goal ≤ ${w.goal.toFixed(2)}: ${w.verdict}   (worker processes ${ms(w.workerMsPerImage)} ÷ pure resizing ${ms(w.pureMsPerImage)} CPU per image; ${w.low.toFixed(3)}-${w.high.toFixed(3)} against each bracketing baseline)`,
            ),
          ]
        : []),
      ...(o.warning ? [`  WARNING: ${o.warning}`] : []),
      "  How each figure is measured and defined: packages/load-test/README.md",
    );
  }
  return [...lines, ...result.notes.map((note) => `  note: ${note}`)];
}

function renderRun(run: RunResult, target: LoadTestResult["target"]): string[] {
  const busiest = [...run.lanes].sort((a, b) => b.busyMs - a.busyMs).slice(0, 8);
  const classes = Object.entries(run.errorsByClass);
  const { cpu, consistency } = run;
  return [
    "",
    `Order ${run.orderId} (${run.label}): ${run.status}: ${run.total} images in ${run.slicesPlanned} slices, ${run.done} done, ${run.failed} failed`,
    row("wall time", `${ms(run.wallMs)}  order-completed → ${run.wallSource}`),
    row(
      "throughput",
      `${run.throughput.imagesPerSecond.toFixed(1)} images/s, ${run.throughput.megabytesPerSecond.toFixed(1)} MB/s of originals`,
    ),
    row("per image", summaryLine(run.perImageMs)),
    row("per slice", summaryLine(run.perSliceMs)),
    ...(cpu
      ? [
          row(
            "CPU used",
            `${ms(cpu.totalMs)}: workers ${ms(cpu.workersMs)}, this process (fauxqs, coordinator) ${ms(cpu.parentMs)}, Redis ${cpu.redisMs === null ? "–" : ms(cpu.redisMs)}; other processes used ${percent(cpu.otherLoadShare)} of the machine meanwhile`,
          ),
          ...(cpu.workerFullGcs
            ? [
                row(
                  "  full GCs",
                  `${cpu.workerFullGcs.count} in the worker processes (${(cpu.workerFullGcs.count / Math.max(1, run.total)).toFixed(3)} per image), ${ms(cpu.workerFullGcs.pauseMs)} of main-thread pauses`,
                ),
              ]
            : []),
        ]
      : []),
    row(target === "local" ? "worker processes" : "Lambda instances", String(run.lanes.length)),
    ...busiest.map(
      (l) =>
        `    ${l.lane.padEnd(18)} ${String(l.slices).padStart(4)} slices ${String(l.images).padStart(5)} images  busy ${ms(l.busyMs).padStart(9)}  peak RSS ${bytes(l.peakRssBytes)}`,
    ),
    ...(run.lanes.length > busiest.length ? [`    … and ${run.lanes.length - busiest.length} more`] : []),
    row("errors by class", classes.length === 0 ? "none" : classes.map(([k, n]) => `${k} ${n}`).join(", ")),
    ...run.errorSamples.slice(0, 5).map((e) => `    ${e.key}: ${e.class}: ${e.message}`),
    ...(run.sliceFailures.length > 0
      ? [row("slice failures", `${run.sliceFailures.length} (redelivered): ${run.sliceFailures[0]!.error}`)]
      : []),
    row(
      "consistency",
      consistency.ok ? `ok: done + failed = total = ${run.total}` : `PROBLEM: ${consistency.notes.join(" ")}`,
    ),
  ];
}

/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );

const STYLE =
  "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:960px;color:#222;padding:0 16px}" +
  "h2{font-size:17px;border-bottom:1px solid #ddd}pre{font-size:12px;overflow-x:auto}svg{max-width:100%;height:auto}";

/** A self-contained page: each run's charts as inline SVG, then the text report; nothing loads at view time. */
export async function renderHtmlReport(result: LoadTestResult): Promise<string> {
  const { startedAt, machine } = result;
  const runs = await Promise.all(
    result.runs.map(async (run) => {
      const figures = await runCharts(run, result.baseline);
      return `<h2>Order ${escapeHtml(run.orderId)} (${escapeHtml(run.label)}): ${run.status}</h2>\n${figures.map((svg) => `<figure>${svg}</figure>`).join("\n")}`;
    }),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>thumbs load test ${escapeHtml(startedAt)}</title><style>${STYLE}</style></head><body>
<h1>thumbs load test: ${result.target}</h1>
<p>${escapeHtml(startedAt)} · ${escapeHtml(machine.cpuModel)} × ${machine.cpus} · Node ${escapeHtml(machine.node)}</p>
${runs.join("\n")}
<h2>Report</h2>
<pre>${escapeHtml(renderTextReport(result).join("\n"))}</pre>
</body></html>
`;
}
