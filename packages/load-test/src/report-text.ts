import { bytes, ms, row, summaryLine } from "./format.js";
import { WORKER_CPU_DEFINITION } from "./overhead.js";
import type { CpuAccount, LoadTestResult, RunResult, WorkerCpuRatio } from "./result.js";

const percent = (share: number | null) => (share === null ? "unknown" : `${(share * 100).toFixed(0)}%`);

/** "41.2 s: workers …, this process …, Redis …; other processes used 3% of the machine". */
export function cpuLine(cpu: CpuAccount): string {
  return `${ms(cpu.totalMs)}: workers ${ms(cpu.workersMs)}, this process (fauxqs, coordinator) ${ms(cpu.parentMs)}, Redis ${cpu.redisMs === null ? "–" : ms(cpu.redisMs)}; other processes used ${percent(cpu.otherLoadShare)} of the machine meanwhile`;
}

/** "worker CPU ratio  1.123  goal ≤ 1.15: PASS  (…; 1.101-1.145 against each bracketing baseline)". */
export function workerCpuLine(w: WorkerCpuRatio): string {
  return row(
    "worker CPU ratio",
    `${w.ratio.toFixed(3)}  goal ≤ ${w.goal.toFixed(2)}: ${w.verdict}   (worker processes ${ms(w.workerMsPerImage)} ÷ pure resizing ${ms(w.pureMsPerImage)} CPU per image; ${w.low.toFixed(3)}-${w.high.toFixed(3)} against each bracketing baseline)`,
  );
}

/** The readable report printed after a run, one line per entry. */
export function renderTextReport(result: LoadTestResult): string[] {
  const { config: c, corpus } = result;
  const lines: string[] = [];
  const where =
    result.target === "local"
      ? `local, ${c.workers} worker processes × ${c.concurrencyPerWorker} images in flight`
      : `AWS stack ${c.stackName}, worker ${c.workerMemoryMb ?? "?"} MB`;
  lines.push(
    "",
    `Load test (${where}, slices of ${c.sliceSize})`,
    `  order of ${corpus.images} photo-like JPEGs, ${bytes(corpus.totalBytes)} (mean ${bytes(corpus.meanBytes)}, ~${c.megapixels} MP, seed "${c.seed}", detail ${c.detail})`,
  );
  for (const run of result.runs) lines.push(...renderRun(run, result));
  if (result.baseline) {
    const b = result.baseline;
    const brackets = result.baselineBrackets ?? [];
    lines.push(
      "",
      `Pure resizing, same originals from memory (${b.processes} processes × ${b.inFlightPerProcess} images in flight, no S3/SNS/Redis${brackets.length > 1 ? `; mean of the runs ${brackets.map((r) => r.when).join(" and ")} the pipeline` : ""})`,
      row("per image", summaryLine(b.perImageMs)),
      row("CPU per image", `${ms(b.cpuMsPerImage)} (process CPU ÷ images)`),
      ...brackets.map((r) =>
        row(
          `  ${r.when} the pipeline`,
          `${ms(r.cpuMsPerImage)} CPU per image, wall ${ms(r.wallMs)}; other processes used ${percent(r.otherLoadShare)} of the machine`,
        ),
      ),
      row("wall", ms(b.wallMs)),
      row(
        "CPU used",
        `${ms(b.cpuMs)}; other processes used ${percent(b.otherLoadShare)} of the machine meanwhile`,
      ),
    );
  }
  if (result.overhead) {
    const o = result.overhead;
    lines.push(
      "",
      row(
        "overhead ratio",
        `${o.ratio.toFixed(3)}  goal ≤ ${o.goal.toFixed(2)}: ${o.verdict}   (cross-check: wall ÷ pure-resize wall = ${o.wallOverBaselineWall.toFixed(3)})`,
      ),
      ...(o.split
        ? [
            row(
              "  = fan-out × per image",
              `${o.split.fanOut.toFixed(3)} × ${o.split.perImage.toFixed(3)}  (lanes idle between images: delivery, planning, slice start/end × each image's GET, PUTs, Redis and waiting on top of its resize)`,
            ),
          ]
        : []),
      row(
        "CPU ratio",
        o.cpuRatio === null
          ? "not measured (a worker process did not report its CPU)"
          : `${o.cpuRatio.toFixed(3)}  (pipeline CPU ÷ pure-resize CPU, same images)`,
      ),
      ...(o.workerCpu ? [workerCpuLine(o.workerCpu)] : []),
      ...(o.warning ? [`  WARNING: ${o.warning}`] : []),
      ...wrap(o.definition, 96).map((l) => `    ${l}`),
      ...(o.workerCpu ? wrap(WORKER_CPU_DEFINITION, 96).map((l) => `    ${l}`) : []),
    );
  }
  for (const note of result.notes) lines.push(`  note: ${note}`);
  return lines;
}

function renderRun(run: RunResult, result: LoadTestResult): string[] {
  const lines = [
    "",
    `Order ${run.orderId} (${run.label}): ${run.status}: ${run.total} images in ${run.slicesPlanned} slices, ${run.done} done, ${run.failed} failed`,
    row("wall time", `${ms(run.wallMs)}  order-completed → ${run.wallSource}`),
    row(
      "throughput",
      `${run.throughput.imagesPerSecond.toFixed(1)} images/s, ${run.throughput.megabytesPerSecond.toFixed(1)} MB/s of originals`,
    ),
    row("per image", summaryLine(run.perImageMs)),
    `    ${
      result.target === "local"
        ? `the time one image held its worker's lane (fetch + sniff + resize + store, less any fetch that ran ahead), with ${result.config.concurrencyPerWorker} lanes per process`
        : "the workers' ImageMs metric (fetch + sniff + resize + store of one image), from their logs"
    }`,
    row("per slice", summaryLine(run.perSliceMs)),
    ...(run.cpu ? [row("CPU used", cpuLine(run.cpu))] : []),
  ];
  const lanes = run.lanes.length;
  const busiest = [...run.lanes].sort((a, b) => b.busyMs - a.busyMs).slice(0, 8);
  lines.push(row(result.target === "local" ? "worker processes" : "Lambda instances", String(lanes)));
  for (const lane of busiest) {
    lines.push(
      `    ${lane.lane.padEnd(18)} ${String(lane.slices).padStart(4)} slices ${String(lane.images).padStart(5)} images  busy ${ms(lane.busyMs).padStart(9)}  peak RSS ${bytes(lane.peakRssBytes)}`,
    );
  }
  if (lanes > busiest.length) lines.push(`    … and ${lanes - busiest.length} more`);
  const classes = Object.entries(run.errorsByClass);
  lines.push(
    row("errors by class", classes.length === 0 ? "none" : classes.map(([k, n]) => `${k} ${n}`).join(", ")),
  );
  for (const e of run.errorSamples.slice(0, 5)) lines.push(`    ${e.key}: ${e.class}: ${e.message}`);
  if (run.sliceFailures.length > 0)
    lines.push(
      row("slice failures", `${run.sliceFailures.length} (redelivered): ${run.sliceFailures[0]!.error}`),
    );
  lines.push(
    row(
      "consistency",
      run.consistency.ok
        ? `ok: done + failed = total = ${run.total}${run.images.length > 0 ? ` = images reported by the workers` : ""}`
        : `PROBLEM: ${run.consistency.notes.join(" ")}`,
    ),
  );
  return lines;
}

/** Splits a paragraph into lines of at most `width` characters. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
