import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeBaselines } from "../src/baseline.js";
import { measuredFromResult } from "../src/model-command.js";
import { overheadRatio, workerCpuRatio } from "../src/overhead.js";
import type { BaselineResult, LoadTestResult } from "../src/result.js";
import { summarize } from "../src/stats.js";

const baseline = (cpuMsPerImage: number, imageMs: number[]): BaselineResult => {
  const images = imageMs.map((ms, index) => ({ index, ms, bytes: 1e6 }));
  return {
    processes: 2,
    inFlightPerProcess: 2,
    wallMs: imageMs.reduce((a, b) => a + b, 0) / 4,
    cpuMs: cpuMsPerImage * images.length,
    cpuMsPerImage,
    otherLoadShare: null,
    perImageMs: summarize(imageMs),
    images,
  };
};

describe("worker CPU ratio", () => {
  it("divides the workers' CPU per image by the mean of the bracketing baselines, with each as the range", () => {
    // Act
    const w = workerCpuRatio({ msPerImage: 55, baselineMsPerImage: [48, 52] });

    // Assess
    expect(w.pureMsPerImage).toBe(50);
    expect(w.ratio).toBeCloseTo(1.1, 10);
    expect(w.low).toBeCloseTo(55 / 52, 10);
    expect(w.high).toBeCloseTo(55 / 48, 10);
    expect(w.verdict).toBe("PASS");
  });

  it("misses above the goal, and comes with the overhead ratio when the run measured it", () => {
    // Act
    const o = overheadRatio({
      pipelineWallMs: 1000,
      lanes: 2,
      baselineImageMs: [1000, 1000],
      baselineWallMs: 1000,
      workerCpu: { msPerImage: 70, baselineMsPerImage: [43] },
    });

    // Assess
    expect(o.workerCpu?.ratio).toBeCloseTo(70 / 43, 10);
    expect(o.workerCpu?.verdict).toBe("MISS");
  });
});

describe("bracketing baselines", () => {
  it("merge into one yardstick: each image's time and the CPU averaged over the runs", () => {
    // Prepare
    const before = baseline(40, [30, 50]);
    const after = baseline(60, [50, 70]);

    // Act
    const merged = mergeBaselines(before, after);

    // Assess
    expect(merged.images.map((i) => i.ms)).toEqual([40, 60]);
    expect(merged.cpuMsPerImage).toBe(50);
    expect(merged.cpuMs).toBe(100);
    expect(merged.perImageMs.count).toBe(2);
  });
});

describe("--model's CPU per image", () => {
  it("is the worker processes' measured CPU per image, not pure resizing's", async () => {
    // Prepare: a local result whose corpus folder is gone (so no resizing is needed for the spread).
    const dir = await mkdtemp(join(tmpdir(), "thumbs-model-input-"));
    const path = join(dir, "load-test-20250101-000000.json");
    const result = {
      machine: { cpuModel: "Test CPU" },
      corpus: { dir: join(dir, "gone"), meanBytes: 1.2e6 },
      baseline: baseline(43, [40, 40]),
      runs: [{ total: 1000, cpu: { workersMs: 49_000 } }],
    } as unknown as LoadTestResult;
    await writeFile(path, JSON.stringify(result));

    try {
      // Act
      const measured = await measuredFromResult(path, () => {});

      // Assess
      expect(measured.cpuMsPerImage).toBe(49);
      expect(measured.source).toMatch(
        /worker processes' CPU per image \(pure resizing alone: 43\.0 ms, so 1\.14×/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
