import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type MachineCpu, machineCpuMs, otherLoadShare } from "./cpu-usage.js";
import type { BaselineResult } from "./result.js";
import { summarize } from "./stats.js";

export type BaselineMessage = { type: "job"; index: number; path: string } | { type: "end" };
export type BaselineReply =
  | { type: "ready" }
  | { type: "result"; index: number; ms: number; bytes: number; error?: string }
  | { type: "finished"; cpuMs: number };

// Compiled entry point; this module runs from src/ (tests) or dist/, both one level below the package.
const ENTRY = fileURLToPath(new URL("../dist/baseline-process.js", import.meta.url));

/**
 * Pure resizing of the same originals at the pipeline's parallelism: `processes` processes with
 * `inFlight` images each, pulling the next original from a shared queue, with no S3, SNS or Redis.
 */
export async function runBaseline(
  files: ReadonlyArray<{ path: string }>,
  processes: number,
  inFlight: number,
  onProgress: (resized: number) => void,
): Promise<BaselineResult> {
  const children = await Promise.all(Array.from({ length: processes }, startChild));
  const images: BaselineResult["images"] = [];
  const failures: string[] = [];
  let next = 0;
  let lastResultAt = 0;
  // Machine-wide only: a process that ran out of work has exited before the last one finishes, so
  // the processes' own CPU comes from their reports.
  const before = machineCpuMs();
  let after: MachineCpu | undefined;
  const started = performance.now();
  const feed = (child: ChildProcess) => {
    const index = next++;
    const file = files[index];
    child.send((file ? { type: "job", index, path: file.path } : { type: "end" }) satisfies BaselineMessage);
  };
  const finished = children.map(
    (child) =>
      new Promise<number>((resolve, reject) => {
        child.on("message", (reply: BaselineReply) => {
          if (reply.type === "finished") return resolve(reply.cpuMs);
          if (reply.type !== "result") return;
          lastResultAt = performance.now();
          if (reply.error) failures.push(`image ${reply.index}: ${reply.error}`);
          else images.push({ index: reply.index, ms: reply.ms, bytes: reply.bytes });
          onProgress(images.length + failures.length);
          if (images.length + failures.length === files.length) after = machineCpuMs();
          feed(child);
        });
        child.once("exit", (code) =>
          reject(new Error(`A baseline process exited (code ${code}) before it reported its CPU time.`)),
        );
      }),
  );
  for (let lane = 0; lane < inFlight; lane++) for (const child of children) feed(child);
  const cpuMs = (await Promise.all(finished)).reduce((sum, ms) => sum + ms, 0);
  if (failures.length > 0) {
    throw new Error(
      `Pure resizing failed for ${failures.length} of ${files.length} originals: ${failures.slice(0, 3).join("; ")}. Delete the corpus cache folder to regenerate it.`,
    );
  }
  images.sort((a, b) => a.index - b.index);
  return {
    processes,
    inFlightPerProcess: inFlight,
    wallMs: lastResultAt - started,
    cpuMs,
    cpuMsPerImage: cpuMs / images.length,
    otherLoadShare: (after && otherLoadShare(before, after, cpuMs)) ?? null,
    perImageMs: summarize(images.map((i) => i.ms)),
    images,
  };
}

/** The two baselines bracketing a run as one yardstick: each image's time and the CPU averaged, the higher load. */
export function mergeBaselines(before: BaselineResult, after: BaselineResult): BaselineResult {
  const mean = (pick: (b: BaselineResult) => number) => (pick(before) + pick(after)) / 2;
  const later = new Map(after.images.map((i) => [i.index, i.ms]));
  const images = before.images.map((i) => ({ ...i, ms: (i.ms + (later.get(i.index) ?? i.ms)) / 2 }));
  const loads = [before.otherLoadShare, after.otherLoadShare].filter((l) => l !== null);
  return {
    ...before,
    wallMs: mean((b) => b.wallMs),
    cpuMs: mean((b) => b.cpuMs),
    cpuMsPerImage: mean((b) => b.cpuMsPerImage),
    otherLoadShare: loads.length > 0 ? Math.max(...loads) : null,
    perImageMs: summarize(images.map((i) => i.ms)),
    images,
  };
}

function startChild(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(ENTRY, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    child.once("message", () => resolve(child));
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`The baseline process exited (code ${code}) before it was ready. Is ${ENTRY} built?`)),
    );
  });
}
