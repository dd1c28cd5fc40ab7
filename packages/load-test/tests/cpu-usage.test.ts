import { describe, expect, it } from "vitest";
import { otherLoadShare, ownCpuDelta, parseProcStat, parseSystemStat } from "../src/cpu-usage.js";

describe("CPU accounting from /proc", () => {
  it("reads utime + stime of a process, even with spaces and parentheses in its name", () => {
    // Prepare: fields 14 and 15 are 250 and 50 ticks
    const line = "4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 100 1 1";

    // Act
    const ms = parseProcStat(line, 100);

    // Assess
    expect(ms).toBe(3000);
  });

  it("splits the machine's time into busy and total", () => {
    // Prepare: user nice system idle iowait irq softirq steal guest guest_nice
    const text = "cpu  100 10 50 800 40 0 0 0 5 0\ncpu0 50 5 25 400 20 0 0 0 0 0\n";

    // Act
    const cpu = parseSystemStat(text, 100);

    // Assess
    expect(cpu).toEqual({ busyMs: 1600, totalMs: 10000 });
  });

  it("attributes to other processes what the machine did beyond our own processes", () => {
    // Prepare: 10 s of capacity, 6 s busy, 4 s of it ours
    const before = { busyMs: 1000, totalMs: 5000 };
    const after = { busyMs: 7000, totalMs: 15000 };

    // Act
    const share = otherLoadShare(before, after, 4000);

    // Assess
    expect(share).toBeCloseTo(0.2, 10);
    expect(otherLoadShare(undefined, after, 0)).toBeUndefined();
  });

  it("sums per-process deltas, and gives up when a process could not be read", () => {
    // Act / Assess
    expect(ownCpuDelta({ system: undefined, own: [10, 20] }, { system: undefined, own: [15, 40] })).toBe(25);
    expect(
      ownCpuDelta({ system: undefined, own: [10, undefined] }, { system: undefined, own: [15, 40] }),
    ).toBe(undefined);
  });
});
