import type { ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import type { WorkerProcessMessage } from "@thumbs/local";
import type { CpuAccount } from "./result.js";

// Each process reports its own CPU time, so no platform-specific process table is read; the
// machine's busy time shows how much other processes took from the same cores.

export interface MachineCpu {
  busyMs: number;
  totalMs: number;
}

/** Busy and total CPU ms of the whole machine so far, all cores. */
export function machineCpuMs(): MachineCpu {
  let busyMs = 0;
  let idleMs = 0;
  for (const { times } of cpus()) {
    busyMs += times.user + times.nice + times.sys + times.irq;
    idleMs += times.idle;
  }
  return { busyMs, totalMs: busyMs + idleMs };
}

/** The share of the machine's capacity other processes used between two readings, ours having used `ownMs`. */
export function otherLoadShare(before: MachineCpu, after: MachineCpu, ownMs: number): number | undefined {
  const total = after.totalMs - before.totalMs;
  return total > 0 ? Math.max(0, (after.busyMs - before.busyMs - ownMs) / total) : undefined;
}

/** What a worker process reports of itself: CPU ms, and full GCs and their pauses, so far. */
export interface WorkerReading {
  cpuMs: number;
  fullGcs: number;
  fullGcMs: number;
}

/** A worker process's reading, as it reports itself over IPC; undefined when it exits first. */
export function readWorker(child: ChildProcess): Promise<WorkerReading | undefined> {
  return new Promise((resolve) => {
    const finish = (reading?: WorkerReading) => {
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(reading);
    };
    const onMessage = (message: WorkerProcessMessage) => message.type === "cpu" && finish(message);
    const onExit = () => finish();
    child.on("message", onMessage);
    child.on("exit", onExit);
    if (child.connected) child.send("cpu", (error: Error | null) => error && finish());
    else finish();
  });
}

export interface CpuSnapshot {
  machine: MachineCpu;
  /** This process: fauxqs and the coordinator run in it. */
  parentMs: number;
  /** Per worker process, in the same order each time; undefined when one did not answer. */
  workers: Array<WorkerReading | undefined>;
  redisMs: number | undefined;
}

/** Everything's CPU time at one moment: this process, each worker process, Redis (INFO cpu) and the machine. */
export async function cpuSnapshot(
  workers: readonly ChildProcess[],
  redis: { info(section: string): Promise<string> },
): Promise<CpuSnapshot> {
  const [readings, info] = await Promise.all([
    Promise.all(workers.map(readWorker)),
    redis.info("cpu").catch(() => ""),
  ]);
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)?.[1]);
  const redisSeconds = field("used_cpu_user") + field("used_cpu_sys");
  const { user, system } = process.cpuUsage();
  return {
    machine: machineCpuMs(),
    parentMs: (user + system) / 1000,
    workers: readings,
    redisMs: Number.isFinite(redisSeconds) ? redisSeconds * 1000 : undefined,
  };
}

/** The CPU used between two snapshots; undefined when a worker process could not be read both times. */
export function cpuAccount(before: CpuSnapshot, after: CpuSnapshot): CpuAccount | undefined {
  let workersMs = 0;
  const fullGcs = { count: 0, pauseMs: 0 };
  for (const [i, end] of after.workers.entries()) {
    const start = before.workers[i];
    if (start === undefined || end === undefined) return undefined;
    workersMs += end.cpuMs - start.cpuMs;
    fullGcs.count += end.fullGcs - start.fullGcs;
    fullGcs.pauseMs += end.fullGcMs - start.fullGcMs;
  }
  const parentMs = after.parentMs - before.parentMs;
  const redisMs =
    before.redisMs !== undefined && after.redisMs !== undefined ? after.redisMs - before.redisMs : null;
  const totalMs = parentMs + workersMs + (redisMs ?? 0);
  return {
    totalMs,
    workersMs,
    workerFullGcs: fullGcs,
    parentMs,
    redisMs,
    otherLoadShare: otherLoadShare(before.machine, after.machine, totalMs) ?? null,
  };
}
