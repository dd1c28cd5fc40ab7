import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
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
  const messages: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  lines.on("line", (line) => {
    try {
      messages.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Anything that is not a protocol line (a library's warning) is not ours to interpret.
    }
    wake?.();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      resolve(code);
      wake?.();
    });
    child.on("error", (error) => {
      stderr += String(error);
      resolve(-1);
    });
  });
  let finished = false;
  void exited.then(() => {
    finished = true;
  });
  const next = async (what: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + TIME_LIMIT_MS;
    for (;;) {
      const message = messages.shift();
      if (message?.error) throw new Error(String(message.error));
      if (message) return message;
      if (finished || Date.now() > deadline) {
        throw new Error(
          `Expected ${what} from ${spec.command} ${spec.args.slice(0, 3).join(" ")}, but it ${
            finished ? `exited (${await exited})` : "timed out"
          }. Its stderr: ${stderr.trim() || "(empty)"}`,
        );
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000);
      });
    }
  };
  const ready = next("the ready line").then(() => undefined);
  const result = ready.then(() => next("a result line")) as Promise<unknown> as Promise<RunnerResult>;
  // Keeps an unawaited rejection (a failed warm-up) from crashing the bench; runParallel reports it.
  result.catch(() => {});
  return { child, ready, result };
}
