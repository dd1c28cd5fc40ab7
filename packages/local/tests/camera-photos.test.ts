import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { cameraPhotoSpec } from "../src/camera-photos.js";
import { type PhotoFormat, photoLikeImage } from "../src/sample-images.js";

describe("camera-style photo sets", () => {
  it("mix JPEG, PNG and WebP of 8-24 MP under camera-style names, in every 8 photos", () => {
    // Act
    const specs = Array.from({ length: 8 }, (_, i) => cameraPhotoSpec(i));

    // Assess
    expect(new Set(specs.map((s) => s.format))).toEqual(new Set(["jpeg", "png", "webp"]));
    for (const s of specs) {
      expect(s.width * s.height).toBeGreaterThanOrEqual(8e6 * 0.9);
      expect(s.width * s.height).toBeLessThanOrEqual(24e6 * 1.1);
    }
    const names = specs.map((s) => s.name);
    expect(names).toContain("IMG_0042.JPG");
    expect(names).toContain("DSC 0043.jpeg");
    expect(names).toContain("Été à Nice 44.png");
    expect(names.some((n) => /\.(JPG|WEBP)$/.test(n))).toBe(true);
    expect(specs.some((s) => s.orientation === 6)).toBe(true);
  });

  it("never name two photos alike, not even by case, so a set can live on macOS and Windows", () => {
    // Act
    const names = Array.from({ length: 500 }, (_, i) => cameraPhotoSpec(i).name.toLowerCase());

    // Assess
    expect(new Set(names).size).toBe(500);
  });

  it("are rendered in the format asked for, with the EXIF orientation asked for", async () => {
    // Prepare
    const formats: PhotoFormat[] = ["jpeg", "png", "webp"];

    // Act
    const metas = await Promise.all(
      formats.map(async (format) =>
        sharp(
          await photoLikeImage({ seed: "formats", width: 320, height: 240, orientation: 6 }, format),
        ).metadata(),
      ),
    );

    // Assess
    expect(metas.map((m) => [m.format, m.width, m.height, m.orientation])).toEqual([
      ["jpeg", 320, 240, 6],
      ["png", 320, 240, 6],
      ["webp", 320, 240, 6],
    ]);
  });
});
