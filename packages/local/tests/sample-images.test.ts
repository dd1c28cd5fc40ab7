import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { photoLikeJpeg, samplePhotos, seededBytes } from "../src/sample-images.js";

describe("generated photos", () => {
  it("are deterministic for a seed", async () => {
    // Act + Assess: the seeded bytes.
    expect(seededBytes("a", 32)).toEqual(seededBytes("a", 32));
    expect(seededBytes("a", 32)).not.toEqual(seededBytes("b", 32));

    // Act: the same photo twice.
    const [a, b] = await Promise.all([
      photoLikeJpeg({ seed: "s", width: 320, height: 240 }),
      photoLikeJpeg({ seed: "s", width: 320, height: 240 }),
    ]);

    // Assess
    expect(a.equals(b)).toBe(true);
  });

  it("are real JPEGs of the requested size, some with an EXIF orientation", async () => {
    // Act
    const photos = await samplePhotos(8, { megapixels: 0.1 });

    // Assess
    const metas = await Promise.all(photos.map((p) => sharp(p.data).metadata()));
    expect(metas.every((m) => m.format === "jpeg")).toBe(true);
    expect(metas.filter((m) => m.orientation === 6)).toHaveLength(1);
    for (const m of metas) expect(m.width * m.height).toBeGreaterThan(50_000);
  });
});
