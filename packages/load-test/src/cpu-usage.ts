import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * CPU accounting from Linux's /proc, so a run can tell how much CPU the pipeline itself used and
 * how much other processes took from the same cores meanwhile (a busy machine stretches wall times,
 * and a wall-time ratio alone cannot tell that from pipeline overhead). Every reader returns
 * undefined where /proc is not available (macOS, Windows).
 */

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ is 100 on every mainstream Linux build
    }
  }
  return ticksPerSecond;
}

/** User + system CPU ms a process has used so far, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"), clockTicks());
  } catch {
    return undefined;
  }
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in ms. */
export function parseProcStat(line: string, ticks: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
  const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000;
}

/** Busy and total CPU ms of the whole machine (all cores), from the first line of /proc/stat. */
export function systemCpuMs(): { busyMs: number; totalMs: number } | undefined {
  try {
    return parseSystemStat(readFileSync("/proc/stat", "utf8"), clockTicks());
  } catch {
    return undefined;
  }
}

/** Sums the "cpu" line of /proc/stat: idle and iowait are idle, the rest (but guest time, already in user) busy. */
export function parseSystemStat(text: string, ticks: number): { busyMs: number; totalMs: number } {
  const values = text.split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: (busy / ticks) * 1000, totalMs: ((busy + idle + iowait) / ticks) * 1000 };
}

export interface CpuSnapshot {
  system: { busyMs: number; totalMs: number } | undefined;
  /** CPU ms of the processes being measured (undefined entries are processes that could not be read). */
  own: Array<number | undefined>;
}

export function snapshot(ownPids: readonly number[]): CpuSnapshot {
  return { system: systemCpuMs(), own: ownPids.map(processCpuMs) };
}

/**
 * The share of the machine's CPU capacity that processes other than `ownMs`'s used between two
 * system snapshots: 0 on an otherwise idle machine. Undefined without /proc.
 */
export function otherLoadShare(
  before: CpuSnapshot["system"],
  after: CpuSnapshot["system"],
  ownMs: number,
): number | undefined {
  if (!before || !after) return undefined;
  const total = after.totalMs - before.totalMs;
  if (!(total > 0)) return undefined;
  return Math.max(0, (after.busyMs - before.busyMs - ownMs) / total);
}

/** Σ of the per-process CPU ms used between two snapshots of the same pids. */
export function ownCpuDelta(before: CpuSnapshot, after: CpuSnapshot): number | undefined {
  let sum = 0;
  for (let i = 0; i < before.own.length; i++) {
    const a = before.own[i];
    const b = after.own[i];
    if (a === undefined || b === undefined) return undefined;
    sum += b - a;
  }
  return sum;
}
