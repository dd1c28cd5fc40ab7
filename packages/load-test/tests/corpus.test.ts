import { describe, expect, it } from "vitest";
import { calibrateDetail } from "../src/corpus.js";

describe("photo size calibration", () => {
  it("interpolates the detail that gives the target size, rounded to 0.01", async () => {
    // Prepare: size grows linearly, 0.25 MB + 3 MB per unit of detail
    const probed: number[] = [];
    const probe = async (detail: number) => {
      probed.push(detail);
      return 0.25 + 3 * detail;
    };

    // Act
    const detail = await calibrateDetail(1.2, probe);

    // Assess
    expect(detail).toBeCloseTo(0.32, 10);
    expect(probed).toHaveLength(2);
  });

  it("says what to do when size does not grow with detail", async () => {
    // Act / Assess
    await expect(calibrateDetail(1.2, async () => 1)).rejects.toThrow(/Pass --detail/);
  });
});
