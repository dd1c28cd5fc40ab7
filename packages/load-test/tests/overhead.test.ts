import { describe, expect, it } from "vitest";
import { OVERHEAD_GOAL, overheadRatio } from "../src/overhead.js";

describe("pipeline overhead ratio", () => {
  it("is 1.0 when the pipeline takes exactly as long as perfectly parallel pure resizing", () => {
    // Prepare: 100 images of 40 ms on 2 lanes resize in 2,000 ms
    const baselineImageMs = Array.from({ length: 100 }, () => 40);

    // Act
    const o = overheadRatio({ pipelineWallMs: 2000, lanes: 2, baselineImageMs, baselineWallMs: 2000 });

    // Assess
    expect(o.ratio).toBe(1);
    expect(o.verdict).toBe("PASS");
    expect(o.wallOverBaselineWall).toBe(1);
    expect(o.goal).toBe(OVERHEAD_GOAL);
  });

  it("misses the goal above 1.15", () => {
    // Prepare
    const baselineImageMs = Array.from({ length: 100 }, () => 40);

    // Act
    const o = overheadRatio({ pipelineWallMs: 2400, lanes: 2, baselineImageMs, baselineWallMs: 2100 });

    // Assess
    expect(o.ratio).toBeCloseTo(1.2, 10);
    expect(o.verdict).toBe("MISS");
    expect(o.wallOverBaselineWall).toBeCloseTo(2400 / 2100, 10);
  });

  it("passes exactly at the goal", () => {
    // Act
    const o = overheadRatio({
      pipelineWallMs: 115,
      lanes: 1,
      baselineImageMs: [100],
      baselineWallMs: 100,
    });

    // Assess
    expect(o.verdict).toBe("PASS");
  });
});

describe("CPU ratio and busy-machine warning", () => {
  it("divides the pipeline's CPU by pure resizing's CPU and warns when the machine was busy", () => {
    // Act
    const o = overheadRatio({
      pipelineWallMs: 2000,
      lanes: 2,
      baselineImageMs: [2000, 2000],
      baselineWallMs: 2000,
      pipelineCpuMs: 4400,
      baselineCpuMs: 4000,
      otherLoad: [0.02, 0.35],
    });

    // Assess
    expect(o.cpuRatio).toBeCloseTo(1.1, 10);
    expect(o.warning).toMatch(/up to 35% of this machine's CPU.*the CPU ratio is less affected/);
  });

  it("has no CPU ratio or warning when nothing was measured", () => {
    // Act
    const o = overheadRatio({ pipelineWallMs: 1, lanes: 1, baselineImageMs: [1], baselineWallMs: 1 });

    // Assess
    expect(o.cpuRatio).toBeNull();
    expect(o.warning).toBeUndefined();
  });

  // 4 lanes for 10 s; the pipeline's own image times sum to 36 s, pure resizing to 30 s.
  const pipeline = {
    pipelineWallMs: 10_000,
    lanes: 4,
    baselineImageMs: Array.from({ length: 30 }, () => 1000),
    baselineWallMs: 7_500,
    pipelineImageMsSum: 36_000,
  };

  it("splits the ratio into fan-out × per image, whose product is the ratio", () => {
    // Act
    const o = overheadRatio(pipeline);

    // Assess: lanes idle 10% of the time (40/36), each image 20% over its resize (36/30).
    expect(o.split!.fanOut).toBeCloseTo(40 / 36, 10);
    expect(o.split!.perImage).toBeCloseTo(1.2, 10);
    expect(o.split!.fanOut * o.split!.perImage).toBeCloseTo(o.ratio, 10);
  });

  it("splits the fan-out into lanes idle within worker invocations × between them", () => {
    // Prepare: of the 40 s of lane time, 37 s inside invocations.
    const input = { ...pipeline, invocationLaneMs: 37_000 };

    // Act
    const o = overheadRatio(input);

    // Assess
    expect(o.split!.withinInvocations).toBeCloseTo(37 / 36, 10);
    expect(o.split!.betweenInvocations).toBeCloseTo(40 / 37, 10);
    expect(o.split!.withinInvocations! * o.split!.betweenInvocations!).toBeCloseTo(o.split!.fanOut, 10);
  });

  it("leaves the fan-out unsplit when no invocation time was reported", () => {
    // Act
    const o = overheadRatio(pipeline);

    // Assess
    expect(o.split).toEqual({ fanOut: 40 / 36, perImage: 1.2 });
  });
});
