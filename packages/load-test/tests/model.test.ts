import { describe, expect, it } from "vitest";
import {
  DEFAULT_ASSUMPTIONS,
  type ModelAssumptions,
  PRICES,
  type Prediction,
  pickConfigurations,
  predict,
  predictGrid,
  vcpuShare,
} from "../src/model.js";
import { spreadSample } from "../src/model-command.js";

const assumptions: ModelAssumptions = {
  ...DEFAULT_ASSUMPTIONS,
  cpuMsPerImage: 45,
  maxOverAvg: 2,
  meanImageBytes: 1.2e6,
};

describe("Lambda memory/cost model", () => {
  it("maps memory to Lambda's vCPU share: 1 at 1,769 MB, linear, at most 6", () => {
    // Act / Assess
    expect(vcpuShare(1769)).toBe(1);
    expect(vcpuShare(3538)).toBe(2);
    expect(vcpuShare(512)).toBeCloseTo(0.289, 3);
    expect(vcpuShare(10240)).toBeCloseTo(5.79, 2);
    expect(vcpuShare(20000)).toBe(6);
  });

  it("bills S3 requests: a GET and two PUTs per image, and a LIST per 1,000 keys (workers never list)", () => {
    // Prepare: slices of 25 → 40 slices for 1,000 images
    const p = predict(1769, 25, assumptions);

    // Act
    const s3 = 1000 * PRICES.s3Get + (2000 + 1) * PRICES.s3PutOrList;

    // Assess
    expect(p.slices).toBe(40);
    expect(p.costBreakdown.s3).toBeCloseTo(s3, 12);
    expect(p.costBreakdown.sns).toBeCloseTo(40 * PRICES.snsPublish, 12);
    expect(p.costBreakdown.requests).toBeCloseTo(41 * PRICES.lambdaRequest, 12);
    expect(p.warmCost).toBeCloseTo(
      p.costBreakdown.lambda + s3 + p.costBreakdown.sns + p.costBreakdown.requests,
      12,
    );
  });

  it("follows the worker's images-in-flight rule, capped by the slice size", () => {
    // Act / Assess
    expect(predict(1769, 25, assumptions).inFlight).toBe(2);
    expect(predict(3538, 25, assumptions).inFlight).toBe(4);
    expect(predict(10240, 25, assumptions).inFlight).toBe(12);
    expect(predict(10240, 5, assumptions).inFlight).toBe(5);
  });

  it("stretches resizing below one vCPU and never below the CPU time", () => {
    // Act
    const small = predict(512, 25, assumptions);
    const one = predict(1769, 25, assumptions);

    // Assess
    expect(small.resizeAvgMs).toBeGreaterThan((45 / vcpuShare(512)) * 0.99);
    expect(one.resizeAvgMs).toBeGreaterThanOrEqual(45);
    expect(one.resizeMaxMs).toBe(one.resizeAvgMs * 2);
    expect(small.sliceMs).toBeGreaterThan(one.sliceMs);
  });

  it("predicts cold runs slower and dearer than warm ones", () => {
    // Act
    const grid = predictGrid(assumptions);

    // Assess
    expect(grid).toHaveLength(13 * 5);
    for (const p of grid) {
      expect(p.coldWallMs).toBeGreaterThan(p.warmWallMs);
      expect(p.coldCost).toBeGreaterThan(p.warmCost);
    }
  });

  it("picks the cheapest, the fastest and the best balance as Lambda Power Tuning does", () => {
    // Prepare
    const p = (memoryMb: number, warmWallMs: number, warmCost: number) =>
      ({ memoryMb, sliceSize: 25, warmWallMs, warmCost }) as Prediction;
    const options = [p(512, 10_000, 1.0), p(1769, 2_000, 1.2), p(4096, 1_000, 3.0), p(10240, 900, 6.0)];

    // Act
    const picks = pickConfigurations(options);

    // Assess
    expect(picks.cost.memoryMb).toBe(512);
    expect(picks.speed.memoryMb).toBe(10240);
    // 0.5·1.2/6 + 0.5·2000/10000 = 0.2, the lowest score
    expect(picks.balanced.memoryMb).toBe(1769);
  });

  it("breaks ties: equal cost → faster, equal speed → cheaper", () => {
    // Prepare
    const p = (memoryMb: number, warmWallMs: number, warmCost: number) =>
      ({ memoryMb, sliceSize: 25, warmWallMs, warmCost }) as Prediction;

    // Act
    const picks = pickConfigurations([p(1, 5, 1), p(2, 4, 1), p(3, 1, 3), p(4, 1, 2)]);

    // Assess
    expect(picks.cost.memoryMb).toBe(2);
    expect(picks.speed.memoryMb).toBe(4);
  });
});

describe("model input", () => {
  it("samples originals evenly and adds the largest, without duplicates", () => {
    // Prepare: 100 originals, the largest at indices 7, 50 and 99
    const files = Array.from({ length: 100 }, (_, i) => ({
      path: `p${i}`,
      bytes: [7, 50, 99].includes(i) ? 9e6 : 1e6,
    }));

    // Act
    const sample = spreadSample(files, 10, 3);

    // Assess
    expect(sample.map((f) => f.path)).toEqual([
      "p0",
      "p10",
      "p20",
      "p30",
      "p40",
      "p50",
      "p60",
      "p70",
      "p80",
      "p90",
      "p7",
      "p99",
    ]);
  });
});
