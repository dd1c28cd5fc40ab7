import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { type CpuSnapshot, cpuAccount, machineCpuMs, otherLoadShare, readWorker } from "../src/cpu-usage.js";

/** A stand-in worker process that answers "cpu" with `cpuMs` (and 2 full GCs), or exits without answering. */
function fakeWorker(cpuMs: number | "exits"): ChildProcess {
  const child = Object.assign(new EventEmitter(), { connected: true }) as unknown as ChildProcess;
  child.send = ((message: string, callback: (error: Error | null) => void) => {
    callback(null);
    if (message !== "cpu") return true;
    if (cpuMs === "exits") child.emit("exit", 1, null);
    else child.emit("message", { type: "cpu", pid: 1, cpuMs, fullGcs: 2, fullGcMs: 30 });
    return true;
  }) as ChildProcess["send"];
  return child;
}

const snapshot = (workersMs: Array<number | undefined>, parentMs: number, redisMs?: number): CpuSnapshot => ({
  machine: { busyMs: 0, totalMs: 0 },
  parentMs,
  workers: workersMs.map((cpuMs) =>
    cpuMs === undefined ? undefined : { cpuMs, fullGcs: cpuMs / 5, fullGcMs: cpuMs },
  ),
  redisMs,
});

describe("CPU accounting", () => {
  it("reads the machine's busy time as a part of its total", () => {
    // Act
    const cpu = machineCpuMs();

    // Assess
    expect(cpu.busyMs).toBeGreaterThan(0);
    expect(cpu.totalMs).toBeGreaterThanOrEqual(cpu.busyMs);
  });

  it("attributes to other processes what the machine did beyond our own processes", () => {
    // Prepare: 10 s of capacity, 6 s busy, 4 s of it ours
    const before = { busyMs: 1000, totalMs: 5000 };
    const after = { busyMs: 7000, totalMs: 15000 };

    // Act
    const share = otherLoadShare(before, after, 4000);

    // Assess
    expect(share).toBeCloseTo(0.2, 10);
    expect(otherLoadShare(after, after, 0)).toBeUndefined();
  });

  it("asks a worker process for its own CPU time and full GCs, and gets nothing from one that exits", async () => {
    // Act
    const answered = await readWorker(fakeWorker(1234.5));
    const exited = await readWorker(fakeWorker("exits"));

    // Assess
    expect(answered).toMatchObject({ cpuMs: 1234.5, fullGcs: 2, fullGcMs: 30 });
    expect(exited).toBeUndefined();
  });

  it("sums per-process deltas, and gives up when a worker could not be read", () => {
    // Act
    const account = cpuAccount(snapshot([10, 20], 100, 5), snapshot([15, 40], 130, 7));
    const missing = cpuAccount(snapshot([10, undefined], 100), snapshot([15, 40], 130));

    // Assess
    expect(account).toMatchObject({ workersMs: 25, parentMs: 30, redisMs: 2, totalMs: 57 });
    expect(account?.workerFullGcs).toEqual({ count: 5, pauseMs: 25 });
    expect(missing).toBeUndefined();
  });
});
