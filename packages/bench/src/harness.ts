import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import pTimeout from "p-timeout";
import type { RunnerResult } from "./protocol.js";

/** How to start one runner process (see protocol.ts). */
export interface RunSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface ParallelRun {
  processes: number;
  /** Images done by all processes together. */
  images: number;
  /** From the common start signal to the last process's end. */
  wallMs: number;
  /** Largest peak RSS of any one process, KiB. */
  maxRssKb: number;
}

/** A child that is past warm-up and waits for the start signal. */
interface ReadyChild {
  child: ChildProcess;
  result: Promise<RunnerResult>;
}

const TIME_LIMIT_MS = 15 * 60 * 1000;

/**
 * Runs `processes` copies of a runner at once, each pinned to its own core when `pin` (taskset), and
 * releases them together once all have warmed up, so their timed sections overlap fully.
 */
export async function runParallel(spec: RunSpec, processes: number, pin: boolean): Promise<ParallelRun> {
  const children = Array.from({ length: processes }, (_, cpu) => startChild(spec, pin ? cpu : undefined));
  try {
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin?.write("go\n");
    const results = await Promise.all(children.map((c) => c.result));
    return {
      processes,
      images: results.reduce((s, r) => s + r.images, 0),
      wallMs: Math.max(...results.map((r) => r.wallMs)),
      maxRssKb: Math.max(...results.map((r) => r.maxRssKb)),
    };
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill();
  }
}

function startChild(spec: RunSpec, cpu: number | undefined): ReadyChild & { ready: Promise<void> } {
  const [command, args] =
    cpu === undefined
      ? [spec.command, spec.args]
      : ["taskset", ["-c", String(cpu), spec.command, ...spec.args]];
  const child = spawn(command, args, {
    env: { ...process.env, ...spec.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  // Taken at once, so no line printed before the first read is missed; it ends when stdout closes.
  const protocol = protocolLines(lines[Symbol.asyncIterator]());
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", resolve);
    child.on("error", (error) => {
      stderr += String(error);
      // A child that never started has no output to end the lines with.
      lines.close();
      resolve(-1);
    });
  });
  const next = async (what: string): Promise<Record<string, unknown>> => {
    const line = await pTimeout(protocol.next(), { milliseconds: TIME_LIMIT_MS, message: false });
    if (line?.value?.error) throw new Error(String(line.value.error));
    if (line?.value) return line.value;
    throw new Error(
      `Expected ${what} from ${spec.command} ${spec.args.slice(0, 3).join(" ")}, but it ${
        line ? `exited (${await exited})` : `sent nothing within ${TIME_LIMIT_MS / 60_000} min`
      }. Its stderr: ${stderr.trim() || "(empty)"}`,
    );
  };
  const ready = next("the ready line").then(() => undefined);
  const result = ready.then(() => next("a result line")) as Promise<unknown> as Promise<RunnerResult>;
  // Keeps an unawaited rejection (a failed warm-up) from crashing the bench; runParallel reports it.
  result.catch(() => {});
  return { child, ready, result };
}

/** The runner's protocol lines, parsed; anything else it prints (a library's warning) is skipped. */
async function* protocolLines(lines: AsyncIterator<string>): AsyncGenerator<Record<string, unknown>> {
  for (let line = await lines.next(); !line.done; line = await lines.next()) {
    const message = parseProtocolLine(line.value);
    if (message) yield message;
  }
}

function parseProtocolLine(line: string): Record<string, unknown> | undefined {
  try {
    const message: unknown = JSON.parse(line);
    return typeof message === "object" && message !== null ? (message as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not a protocol line: not ours to interpret
  }
}
