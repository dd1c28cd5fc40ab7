import { describe, expect, it } from "vitest";
import { countBy, quantile, summarize } from "../src/stats.js";

describe("statistics", () => {
  it("interpolates quantiles between the nearest ranks", () => {
    // Prepare
    const sorted = [10, 20, 30, 40];

    // Act
    const median = quantile(sorted, 0.5);
    const p95 = quantile(sorted, 0.95);

    // Assess
    expect(median).toBe(25);
    expect(p95).toBeCloseTo(38.5, 10);
    expect(quantile(sorted, 0)).toBe(10);
    expect(quantile(sorted, 1)).toBe(40);
  });

  it("summarizes unsorted values", () => {
    // Prepare
    const values = [5, 1, 4, 2, 3];

    // Act
    const s = summarize(values);

    // Assess
    expect(s).toMatchObject({ count: 5, sum: 15, min: 1, avg: 3, p50: 3, max: 5 });
    expect(s.p95).toBeCloseTo(4.8, 10);
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it("gives NaN figures and a zero count for no values", () => {
    // Act
    const s = summarize([]);

    // Assess
    expect(s.count).toBe(0);
    expect(s.avg).toBeNaN();
    expect(s.p95).toBeNaN();
  });

  it("counts by key, most frequent first", () => {
    // Prepare
    const items = ["Corrupt", "NotFound", "Corrupt", undefined, "Unsupported", "NotFound", "Corrupt"];

    // Act
    const counts = countBy(items, (i) => i);

    // Assess
    expect(Object.entries(counts)).toEqual([
      ["Corrupt", 3],
      ["NotFound", 2],
      ["Unsupported", 1],
    ]);
  });
});
