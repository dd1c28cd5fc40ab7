import { describe, expect, it } from "vitest";
import { formatHeic, type HeicRow } from "../src/heic.js";

describe("the HEIC row", () => {
  it("prints ms per image and ours against each native peer", () => {
    // Prepare
    const corpus = {
      dir: "/tmp/heic",
      files: ["a.heic", "b.heic"],
      meanBytes: 1_500_000,
      meanPixels: 8_800_000,
    };
    const row = (label: string, wallMs: number): HeicRow => ({
      label,
      note: "what it does",
      run: { processes: 1, images: 2, wallMs, maxRssKb: 1 },
    });

    // Act
    const lines = formatHeic(corpus, [
      row("ours: worker resize core", 1200),
      row("heif-convert (native libheif)", 800),
    ]);

    // Assess
    expect(lines[0]).toMatch(/^HEIC set: 2 HEICs .* mean 1\.50 MB, 8\.8 MP/);
    expect(lines[1]).toBe("  ours: worker resize core: 600 ms/img; what it does");
    expect(lines[2]).toBe("  heif-convert (native libheif): 400 ms/img, ours 1.50× its time; what it does");
  });
});
