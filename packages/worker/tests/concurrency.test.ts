import { describe, expect, it } from "vitest";
import { cpuShare, imageConcurrency } from "../src/concurrency.js";

describe("concurrency from the CPU share", () => {
  it("derives Lambda's vCPU share from its memory setting", () => {
    expect(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1769" })).toBeCloseTo(1);
    expect(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "10240" })).toBeCloseTo(5.79, 1);
    expect(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512" })).toBeLessThan(1);
  });

  it("keeps at least two images in flight, and more with more vCPUs", () => {
    expect(imageConcurrency(0.3)).toBeGreaterThanOrEqual(2);
    expect(imageConcurrency(6)).toBeGreaterThan(imageConcurrency(1));
  });
});
