import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SliceReport } from "@thumbs/worker";
import { WorkerProcessError } from "./errors.js";

export type WorkerProcessMessage =
  | { type: "ready"; pid: number }
  | { type: "slices"; pid: number; reports: SliceReport[]; started: number; ended: number; rss: number }
  | { type: "slice-failed"; pid: number; error: string; started: number; ended: number };

export interface WorkerPool {
  processes: ChildProcess[];
  /** Every message the workers sent, in arrival order (slice reports with timings and RSS). */
  events: WorkerProcessMessage[];
  onMessage(listener: (message: WorkerProcessMessage) => void): void;
  /** Kills one worker at once (SIGKILL), as Lambda does at a timeout, and starts a replacement. */
  killOne(): Promise<void>;
  stop(): Promise<void>;
}

// The compiled entry point; this module runs from src/ (tests) or dist/, both one level below the package.
const ENTRY = fileURLToPath(new URL("../dist/worker-process.js", import.meta.url));

/**
 * Starts `count` worker processes, each an independent "Lambda worker" with its own Redis and S3
 * connections, so the local pipeline uses every core the way separate Lambda instances would.
 */
export async function startWorkerPool(count: number, env: Record<string, string>): Promise<WorkerPool> {
  const events: WorkerProcessMessage[] = [];
  const listeners: Array<(m: WorkerProcessMessage) => void> = [];
  const processes: ChildProcess[] = [];

  const spawnOne = (): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = fork(ENTRY, [], {
        // A plain Node, as on Lambda: not the parent's flags (a test runner's `--conditions=source`
        // would make the compiled worker import TypeScript sources).
        execArgv: [],
        env: { ...process.env, ...env },
        stdio: ["ignore", "ignore", "inherit", "ipc"],
      });
      child.on("message", (raw) => {
        const message = raw as WorkerProcessMessage;
        if (message.type === "ready") resolve(child);
        events.push(message);
        for (const listener of listeners) listener(message);
      });
      child.once("error", (error) =>
        reject(new WorkerProcessError(`Worker process failed to start: ${error.message}`, { cause: error })),
      );
      child.once("exit", (code, signal) => {
        const at = processes.indexOf(child);
        if (at >= 0) processes.splice(at, 1);
        reject(
          new WorkerProcessError(
            `Worker process exited before it was ready (code ${code}, signal ${signal}).`,
          ),
        );
      });
      processes.push(child);
    });

  await Promise.all(Array.from({ length: count }, spawnOne));
  return {
    processes,
    events,
    onMessage: (listener) => void listeners.push(listener),
    killOne: async () => {
      const victim = processes[0];
      if (!victim) return;
      const exited = new Promise((resolve) => victim.once("exit", resolve));
      victim.kill("SIGKILL");
      await exited;
      await spawnOne();
    },
    stop: async () => {
      await Promise.all(
        [...processes].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
              child.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
              child.send("stop");
            }),
        ),
      );
    },
  };
}
