import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type MachineCpu, machineCpuMs, otherLoadShare } from "./cpu-usage.js";
import type { BaselineBracket, BaselineResult } from "./result.js";
import { summarize } from "./stats.js";

export type BaselineMessage = { type: "job"; index: number; path: string } | { type: "end" };
type BaselineResultReply = { type: "result"; index: number; ms: number; bytes: number; error?: string };
export type BaselineReply =
  | { type: "ready" }
  | BaselineResultReply
  | { type: "finished"; cpuMs: number; rssBytes: number };

// Compiled entry point; this module runs from src/ (tests) or dist/, both one level below the package.
const ENTRY = fileURLToPath(new URL("../dist/baseline-process.js", import.meta.url));

/**
 * Pure resizing of the same originals at the pipeline's parallelism, as the yardstick for the overhead
 * ratio: `processes` processes with `inFlight` images each, pulling the next original from a shared
 * queue as an image finishes, with no S3, SNS or Redis in the way.
 */
export async function runBaseline(
  files: ReadonlyArray<{ path: string }>,
  processes: number,
  inFlight: number,
  onProgress: (resized: number) => void = () => {},
): Promise<BaselineResult> {
  const children = await Promise.all(Array.from({ length: processes }, startChild));
  const images: BaselineResult["images"] = [];
  const failures: string[] = [];
  let next = 0;
  let lastResultAt = 0;
  // Machine-wide only: a process that ran out of work has already exited when the last one finishes,
  // so the processes' own CPU comes from their reports instead.
  const before = machineCpuMs();
  let after: MachineCpu | undefined;
  const started = performance.now();
  const feed = (child: ChildProcess) => {
    const index = next++;
    const file = files[index];
    child.send(file ? ({ type: "job", index, path: file.path } satisfies BaselineMessage) : { type: "end" });
  };
  const onResult = (child: ChildProcess, reply: BaselineResultReply) => {
    lastResultAt = performance.now();
    if (reply.error) failures.push(`image ${reply.index}: ${reply.error}`);
    else images.push({ index: reply.index, ms: reply.ms, bytes: reply.bytes });
    onProgress(images.length + failures.length);
    if (images.length + failures.length === files.length) after = machineCpuMs();
    feed(child);
  };
  const finished = children.map((child) => cpuWhenFinished(child, (reply) => onResult(child, reply)));
  for (let lane = 0; lane < inFlight; lane++) for (const child of children) feed(child);
  const cpu = await Promise.all(finished);
  if (failures.length > 0) {
    throw new Error(
      `Pure resizing failed for ${failures.length} of ${files.length} originals, so the baseline is incomplete: ${failures.slice(0, 3).join("; ")}. ` +
        "The corpus should hold only valid JPEGs; delete its cache folder to regenerate it.",
    );
  }
  const cpuMs = cpu.reduce((sum, c) => sum + c.cpuMs, 0);
  const otherLoad = after && otherLoadShare(before, after, cpuMs);
  images.sort((a, b) => a.index - b.index);
  return {
    processes,
    inFlightPerProcess: inFlight,
    wallMs: lastResultAt - started,
    cpuMs,
    cpuMsPerImage: cpuMs / images.length,
    otherLoadShare: otherLoad ?? null,
    perImageMs: summarize(images.map((i) => i.ms)),
    images,
  };
}

/**
 * The baselines bracketing a pipeline run folded into one yardstick: each image's time and the CPU are
 * the mean over the runs; other processes' load is the highest any run saw.
 */
export function mergeBaselines(runs: readonly BaselineResult[]): BaselineResult {
  const first = runs[0];
  if (!first) throw new RangeError("Expected at least one baseline run to merge.");
  if (runs.length === 1) return first;
  const mean = (pick: (b: BaselineResult) => number) =>
    runs.reduce((sum, b) => sum + pick(b), 0) / runs.length;
  const byIndex = new Map<number, { ms: number; bytes: number; n: number }>();
  for (const b of runs) {
    for (const image of b.images) {
      const seen = byIndex.get(image.index) ?? { ms: 0, bytes: image.bytes, n: 0 };
      byIndex.set(image.index, { ms: seen.ms + image.ms, bytes: image.bytes, n: seen.n + 1 });
    }
  }
  const images = [...byIndex.entries()]
    .map(([index, s]) => ({ index, ms: s.ms / s.n, bytes: s.bytes }))
    .sort((a, b) => a.index - b.index);
  const loads = runs.map((b) => b.otherLoadShare).filter((l): l is number => l !== null);
  const cpuMs = mean((b) => b.cpuMs);
  return {
    processes: first.processes,
    inFlightPerProcess: first.inFlightPerProcess,
    wallMs: mean((b) => b.wallMs),
    cpuMs,
    cpuMsPerImage: mean((b) => b.cpuMsPerImage),
    otherLoadShare: loads.length > 0 ? Math.max(...loads) : null,
    perImageMs: summarize(images.map((i) => i.ms)),
    images,
  };
}

/** A baseline's totals, for the report's bracket lines. */
export function bracketOf(when: BaselineBracket["when"], b: BaselineResult): BaselineBracket {
  return {
    when,
    wallMs: b.wallMs,
    cpuMs: b.cpuMs,
    cpuMsPerImage: b.cpuMsPerImage,
    otherLoadShare: b.otherLoadShare,
  };
}

/** A baseline process's CPU time once it has finished, handing on each image's result meanwhile. */
function cpuWhenFinished(
  child: ChildProcess,
  onResult: (reply: BaselineResultReply) => void,
): Promise<{ cpuMs: number }> {
  return new Promise((resolve, reject) => {
    child.on("message", (reply: BaselineReply) => {
      if (reply.type === "result") onResult(reply);
      else if (reply.type === "finished") resolve({ cpuMs: reply.cpuMs });
    });
    child.once("exit", (code) =>
      reject(new Error(`A baseline process exited (code ${code}) before it reported its CPU time.`)),
    );
  });
}

function startChild(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(ENTRY, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    child.once("message", () => resolve(child));
    child.once("error", (error) =>
      reject(new Error(`The baseline process could not start: ${error.message}`, { cause: error })),
    );
    child.once("exit", (code) =>
      reject(
        new Error(
          `The baseline process exited (code ${code}) before it was ready. Is ${ENTRY} built? Run \`pnpm --filter @thumbs/load-test build\`.`,
        ),
      ),
    );
  });
}
