import { describe, expect, it } from "vitest";
import { DEFAULT_OUTPUT } from "../src/contracts.js";
import { effectiveSliceSize, KeyFingerprint, keySlices, planOffsets, RangePlanner } from "../src/plan.js";

describe("planOffsets", () => {
  it("covers every index exactly once", () => {
    // Act
    const slices = planOffsets(103, { sliceSize: 25, maxSlices: 1000 });

    // Assess
    expect(slices.map((s) => s.count)).toEqual([25, 25, 25, 25, 3]);
    const covered = slices.flatMap((s) => Array.from({ length: s.count }, (_, i) => s.offset + i));
    expect(covered).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it("grows slices to respect the slice cap", () => {
    expect(effectiveSliceSize(100_000, { sliceSize: 25, maxSlices: 1000 })).toBe(100);
    expect(planOffsets(100_000, { sliceSize: 25, maxSlices: 1000 })).toHaveLength(1000);
  });

  it("plans nothing for an empty order", () => {
    expect(planOffsets(0, { sliceSize: 25, maxSlices: 10 })).toEqual([]);
  });
});

describe("RangePlanner", () => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `p/${String(i).padStart(6, "0")}.jpg`);

  it("plans ranges whose startAfter/lastKey bound exactly the keys of each slice", () => {
    // Prepare
    const all = keys(53);
    const planner = new RangePlanner(5);
    for (const k of all) planner.add(k);

    // Act
    const slices = planner.slices({ sliceSize: 5, maxSlices: 100 });

    // Assess
    expect(planner.total).toBe(53);
    for (const s of slices) {
      const inRange = all.filter((k) => (s.startAfter === undefined || k > s.startAfter) && k <= s.lastKey);
      expect(inRange).toEqual(all.slice(s.offset, s.offset + s.count));
    }
    expect(slices.at(-1)).toMatchObject({ offset: 50, count: 3, lastKey: all[52] });
  });

  it("merges chunks when the order needs larger slices, keeping memory to one key per chunk", () => {
    const planner = new RangePlanner(25);
    for (const k of keys(100_000)) planner.add(k);
    const slices = planner.slices({ sliceSize: 25, maxSlices: 1000 });
    expect(slices).toHaveLength(1000);
    expect(new Set(slices.map((s) => s.count))).toEqual(new Set([100]));
    expect(slices[1]!.startAfter).toBe(slices[0]!.lastKey);
  });

  it("fingerprints the listed keys", () => {
    const a = new RangePlanner(2);
    for (const k of keys(5)) a.add(k);
    expect(a.keysFingerprint()).toBe(KeyFingerprint.of(keys(5)));
    expect(KeyFingerprint.of(keys(5))).not.toBe(KeyFingerprint.of(keys(6)));
  });

  it("refuses a key listed twice", () => {
    const planner = new RangePlanner(2);
    planner.add("a");
    expect(() => planner.add("a")).toThrow(/listed twice/);
  });
});

describe("keySlices", () => {
  it("carries each slice's keys and the resolved output", () => {
    const slices = keySlices({
      orderId: "o",
      bucket: "bucket",
      keys: ["a", "b", "c"],
      output: DEFAULT_OUTPUT,
      limits: { sliceSize: 2, maxSlices: 10 },
    });
    expect(slices.map((s) => [s.sliceIndex, s.offset, s.count, s.source])).toEqual([
      [0, 0, 2, { kind: "keys", keys: ["a", "b"] }],
      [1, 2, 1, { kind: "keys", keys: ["c"] }],
    ]);
    expect(slices[0]!.output).toEqual(DEFAULT_OUTPUT);
  });
});
