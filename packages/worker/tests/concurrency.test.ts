import { describe, expect, it } from "vitest";
import {
  cpuShare,
  heicDecodeMb,
  heicMemoryBudgetMb,
  imageConcurrency,
  MEMORY_RESERVE_MB,
  workerMemoryMb,
} from "../src/concurrency.js";

describe("concurrency from the CPU share", () => {
  it("derives Lambda's vCPU share from its memory setting", () => {
    expect(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1769" })).toBeCloseTo(1);
    expect(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "10240" })).toBeCloseTo(5.79, 1);
    expect(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512" })).toBeLessThan(1);
  });

  it("keeps at least two images in flight, and more with more vCPUs", () => {
    // Assess
    expect(imageConcurrency(0.3)).toBeGreaterThanOrEqual(2);
    expect(imageConcurrency(6)).toBeGreaterThan(imageConcurrency(1));
  });
});

describe("memory for HEIC decodes", () => {
  it("gives HEIC decoding what the worker's memory leaves after the reserve, never less than 128 MB", () => {
    expect(workerMemoryMb({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1769" })).toBe(1769);
    expect(heicMemoryBudgetMb(1769)).toBe(1769 - MEMORY_RESERVE_MB);
    expect(heicMemoryBudgetMb(256)).toBe(128);
  });

  it("fits one 100 MP HEIC (the default MAX_INPUT_PIXELS) on the default 1,769 MB worker", () => {
    // Assess: one at the limit alone, or eight 12 MP phone photos at once.
    expect(heicDecodeMb(100_000_000, 50 * 1024 * 1024)).toBeLessThanOrEqual(heicMemoryBudgetMb(1769));
    expect(heicDecodeMb(12_000_000, 3_000_000) * 8).toBeLessThanOrEqual(heicMemoryBudgetMb(1769));
  });
});
