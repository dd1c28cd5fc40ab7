import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { SliceReport } from "@thumbs/worker";
import { WorkerProcessError } from "./errors.js";

/** What a worker process sends its pool. */
export type WorkerProcessMessage =
  | { type: "ready"; pid: number }
  /** `started`/`ended`: epoch ms on the process's monotonic clock (performance.timeOrigin + now()). */
  | { type: "slices"; pid: number; reports: SliceReport[]; started: number; ended: number; rss: number }
  | { type: "slice-failed"; pid: number; error: string; started: number; ended: number }
  /**
   * The answer to a "cpu" message: user + system CPU ms the process (all its threads) has used so far,
   * and the full (mark-compact) GCs it has run and their pauses in ms.
   */
  | { type: "cpu"; pid: number; cpuMs: number; fullGcs: number; fullGcMs: number };

/** What the pool records: the workers' messages, and what the pool itself saw happen to them. */
export type WorkerPoolEvent =
  | WorkerProcessMessage
  /** A worker exited on its own (a crash, an OOM kill, a kill from outside); a replacement is started. */
  | { type: "exited"; pid: number; code: number | null; signal: NodeJS.Signals | null }
  /** Workers kept dying right after starting, so the pool stopped replacing them. */
  | { type: "gave-up"; pid: number; message: string };

export interface WorkerPool {
  /** The live worker processes (replacements included; exited ones are removed). */
  processes: ChildProcess[];
  /** Every event, in arrival order: slice reports with timings and RSS, and unexpected exits. */
  events: WorkerPoolEvent[];
  onMessage(listener: (event: WorkerPoolEvent) => void): void;
  /** Kills one worker at once (SIGKILL), as Lambda does at a timeout, and waits for its replacement. */
  killOne(): Promise<void>;
  /** Stops every worker after its current message; nothing is replaced from here on. */
  stop(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** The worker script (default: the compiled worker-process.js); tests substitute stand-ins. */
  entry?: string;
  /**
   * How replacements are paced. An exit within `quickExitMs` of becoming ready (or before it) is
   * "quick": each quick exit in a row doubles the delay before the next replacement, from `baseDelayMs`
   * up to `maxDelayMs`, and after `maxQuickExits` in a row the pool stops replacing — a worker that
   * cannot start would otherwise be forked in a hot loop.
   */
  respawn?: { baseDelayMs?: number; maxDelayMs?: number; quickExitMs?: number; maxQuickExits?: number };
}

// The compiled entry point; this module runs from src/ (tests) or dist/, both one level below the package.
const ENTRY = fileURLToPath(new URL("../dist/worker-process.js", import.meta.url));

/**
 * Starts `count` worker processes, each an independent "Lambda worker" with its own Redis and S3
 * connections, so the local pipeline uses every core the way separate Lambda instances would. A
 * worker that exits unexpectedly is replaced, as Lambda starts a new instance after a crash.
 */
export async function startWorkerPool(
  count: number,
  env: Record<string, string>,
  options: WorkerPoolOptions = {},
): Promise<WorkerPool> {
  const entry = options.entry ?? ENTRY;
  const {
    baseDelayMs = 200,
    maxDelayMs = 5_000,
    quickExitMs = 2_000,
    maxQuickExits = 8,
  } = options.respawn ?? {};
  const events: WorkerPoolEvent[] = [];
  const listeners: Array<(event: WorkerPoolEvent) => void> = [];
  const processes: ChildProcess[] = [];
  // Replacements start only while running: not for a failed start, not while stopping.
  let phase: "starting" | "running" | "stopping" = "starting";
  let quickExits = 0;
  const pendingRespawns = new Set<NodeJS.Timeout>();
  // Workers killOne() is replacing itself: their exit is expected.
  const replacing = new WeakSet<ChildProcess>();

  const record = (event: WorkerPoolEvent) => {
    events.push(event);
    for (const listener of listeners) listener(event);
  };

  const spawnOne = (): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = fork(entry, [], {
        // A plain Node, as on Lambda: not the parent's flags (a test runner's `--conditions=source`
        // would make the compiled worker import TypeScript sources).
        execArgv: [],
        env: { ...process.env, ...env },
        stdio: ["ignore", "ignore", "inherit", "ipc"],
      });
      let readyAt: number | undefined;
      child.on("message", (raw) => {
        const message = raw as WorkerProcessMessage;
        if (message.type === "ready") {
          readyAt = Date.now();
          resolve(child);
        }
        record(message);
      });
      child.once("error", (error) =>
        reject(new WorkerProcessError(`Worker process failed to start: ${error.message}`, { cause: error })),
      );
      child.once("exit", (code, signal) => {
        const at = processes.indexOf(child);
        if (at >= 0) processes.splice(at, 1);
        // A no-op once ready; otherwise whoever awaits this start learns why it failed.
        reject(
          new WorkerProcessError(
            `Worker process exited before it was ready (code ${code}, signal ${signal}); its error is on stderr above.`,
          ),
        );
        if (phase !== "running" || replacing.has(child)) return;
        record({ type: "exited", pid: child.pid ?? 0, code, signal });
        replace(child.pid ?? 0, readyAt === undefined || Date.now() - readyAt < quickExitMs);
      });
      processes.push(child);
    });

  const replace = (pid: number, quick: boolean) => {
    quickExits = quick ? quickExits + 1 : 0;
    if (quickExits > maxQuickExits) {
      const message =
        `Worker processes exited ${quickExits} times in a row within ${quickExitMs} ms of starting (last pid ${pid}); ` +
        `the pool stopped replacing them and runs with ${processes.length} of ${count}. ` +
        "Read the workers' errors above, fix the cause (environment, build in packages/local/dist), and restart the stack.";
      console.error(message);
      record({ type: "gave-up", pid, message });
      return;
    }
    const delay = quick ? Math.min(baseDelayMs * 2 ** (quickExits - 1), maxDelayMs) : 0;
    const timer = setTimeout(() => {
      pendingRespawns.delete(timer);
      if (phase !== "running") return;
      // A replacement that fails to start is handled by its own exit listener (backoff or give up).
      spawnOne().catch(() => {});
    }, delay);
    pendingRespawns.add(timer);
  };

  try {
    await Promise.all(Array.from({ length: count }, spawnOne));
  } catch (error) {
    // Don't leave the workers that did start running without a pool to stop them.
    phase = "stopping";
    for (const child of processes) child.kill("SIGKILL");
    throw error;
  }
  phase = "running";

  return {
    processes,
    events,
    onMessage: (listener) => void listeners.push(listener),
    killOne: async () => {
      const victim = processes[0];
      if (!victim) return;
      replacing.add(victim);
      const exited = once(victim, "exit");
      victim.kill("SIGKILL");
      await exited;
      await spawnOne();
    },
    stop: async () => {
      phase = "stopping";
      for (const timer of pendingRespawns) clearTimeout(timer);
      pendingRespawns.clear();
      await Promise.all([...processes].map(stopOne));
    },
  };
}

/** Asks a worker to stop after its current message; kills it if it has not within 5 s. */
function stopOne(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    // The channel may already be closing if the worker is on its way out; the exit resolves us.
    if (child.connected) child.send("stop", () => {});
  });
}
