import { DEFAULT_OUTPUT, type OutputSpec } from "@thumbs/core";
import sharp, { type Metadata } from "sharp";
import { describe, expect, it } from "vitest";
import { makeThumbnails, type Thumbnail } from "../src/resize.js";

/**
 * makeThumbnails() decodes once and derives the small size from the large one's pixels. These tests
 * hold it to the straightforward way (one sharp pipeline per size, from the original) on what the
 * shortcut could get wrong: orientation, colour (ICC, CMYK, grey, alpha) and metadata. Images are
 * compared by metadata and by similarity (PSNR, SSIM), never by bytes.
 */

const SPEC: OutputSpec = {
  sizes: [
    { name: "large", width: 320, height: 320 },
    { name: "small", width: 96, height: 96 },
  ],
  format: "jpeg",
  quality: 80,
};
const LIMITS = { maxInputPixels: 50_000_000, timeoutSeconds: 30 };
const WHITE = { r: 255, g: 255, b: 255 };

// Bounds, set from measurements with a margin: the shortcut measures 32-44 dB (WebP lowest: the worker
// encodes it with less effort) and SSIM ≥ 0.98 against the reference here, while the faults below
// (ICC ignored, flattened on black) measure ≤ 26 dB.
const MIN_PSNR_DB = 30;
const MIN_SSIM = 0.95;
// Against the full-decode result, how much worse than the reference ours may be: sizes made from the
// large one's pixels must not lose (0.5 dB is noise); the largest size trades up to 1 dB for its
// cheaper kernel (resize.ts, LARGEST_KERNEL: linear measures 0.1-0.7 dB below lanczos3 on these cards).
const MAX_LOSS_DB = { largest: 1, derived: 0.5 };

/**
 * A deterministic test card: smooth colour, stripes and hard-edged blocks, softened as a lens would,
 * so resampling differences show without the aliasing of pixel-sharp edges dominating them.
 */
async function card(width: number, height: number, channels: 3 | 4 = 3) {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      const block = (Math.floor(x / 37) + Math.floor(y / 29)) % 3 === 0 ? 60 : 0;
      data[i] = clamp(128 + 90 * Math.sin(x / 23) + block);
      data[i + 1] = clamp(128 + 90 * Math.cos(y / 31) - block);
      data[i + 2] = clamp(128 + 60 * Math.sin((x + y) / 12));
      if (channels === 4) data[i + 3] = x < width / 3 ? 0 : x < (2 * width) / 3 ? 128 : 255;
    }
  }
  const softened = await sharp(data, { raw: { width, height, channels } }).blur(1.2).raw().toBuffer();
  return sharp(softened, { raw: { width, height, channels } });
}
const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** The straightforward output: one sharp pipeline per size, straight from the original. */
async function reference(input: Buffer, spec: OutputSpec, gold = false): Promise<Buffer[]> {
  return Promise.all(
    spec.sizes.map((size) => {
      let p = sharp(input).rotate().resize(size.width, size.height, {
        fit: "inside",
        withoutEnlargement: true,
        fastShrinkOnLoad: !gold,
      });
      if (spec.format === "jpeg") p = p.flatten({ background: WHITE });
      if (gold) return p.png().toBuffer();
      return (
        spec.format === "jpeg" ? p.jpeg({ quality: spec.quality }) : p.webp({ quality: spec.quality })
      ).toBuffer();
    }),
  );
}

/**
 * The best this input allows: full-size decode (no shrink-on-load), lanczos3, lossless output. The
 * reference itself is not that: for the small size it decodes at 1/8 scale, which aliases.
 */
const gold = (input: Buffer, spec: OutputSpec) => reference(input, spec, true);

/** Pixels of `a` and `b` at `a`'s dimensions (they may differ by a pixel, see expectMatches). */
async function pixelPair(a: Buffer, b: Buffer) {
  const pa = await sharp(a).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  const pb = await sharp(b)
    .removeAlpha()
    .toColourspace("srgb")
    .resize(pa.info.width, pa.info.height, { fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return [pa, pb] as const;
}

/** Peak signal-to-noise ratio over all channels, in dB (Infinity when identical). */
async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const [pa, pb] = await pixelPair(a, b);
  let sum = 0;
  for (let i = 0; i < pa.data.length; i++) sum += (pa.data[i]! - pb.data[i]!) ** 2;
  const mse = sum / pa.data.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/** Mean SSIM of luma over 8×8 windows (Wang et al. 2004 constants). */
async function ssim(a: Buffer, b: Buffer): Promise<number> {
  const [pa, pb] = await pixelPair(a, b);
  const { width, height, channels } = pa.info;
  const luma = (d: Buffer, i: number) => 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  let windows = 0;
  for (let wy = 0; wy + 8 <= height; wy += 8) {
    for (let wx = 0; wx + 8 <= width; wx += 8) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = wy; y < wy + 8; y++) {
        for (let x = wx; x < wx + 8; x++) {
          const i = (y * width + x) * channels;
          const va = luma(pa.data, i);
          const vb = luma(pb.data, i);
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const ma = sa / 64;
      const mb = sb / 64;
      const va = saa / 64 - ma * ma;
      const vb = sbb / 64 - mb * mb;
      const cov = sab / 64 - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      windows++;
    }
  }
  return total / windows;
}

/** Asserts that ours matches the reference size by size: dimensions, metadata, similarity. */
async function expectMatches(ours: Thumbnail[], input: Buffer, spec: OutputSpec): Promise<void> {
  const [expected, best] = await Promise.all([reference(input, spec), gold(input, spec)]);
  expect(ours.map((t) => t.size.name)).toEqual(spec.sizes.map((s) => s.name));
  for (const [i, thumb] of ours.entries()) {
    const [mine, theirs] = await Promise.all([sharp(thumb.data).metadata(), sharp(expected[i]!).metadata()]);
    const facts = (m: Metadata) => ({
      format: m.format,
      space: m.space,
      channels: m.channels,
      hasAlpha: m.hasAlpha,
      orientation: m.orientation,
      exif: m.exif !== undefined,
      icc: m.icc !== undefined,
      xmp: m.xmp !== undefined,
    });
    expect(facts(mine), `metadata of ${thumb.size.name}`).toEqual(facts(theirs));
    expect({ width: thumb.width, height: thumb.height }).toEqual({ width: mine.width, height: mine.height });
    // sharp's fast shrink-on-load can round an auto-scaled side down by one pixel when the reference
    // decodes at 1/8 for the small size; ours resizes from the large size's pixels and rounds exactly.
    expect(Math.abs(mine.width - theirs.width), `width of ${thumb.size.name}`).toBeLessThanOrEqual(1);
    expect(Math.abs(mine.height - theirs.height), `height of ${thumb.size.name}`).toBeLessThanOrEqual(1);
    expect(await psnr(thumb.data, expected[i]!), `PSNR of ${thumb.size.name}`).toBeGreaterThanOrEqual(
      MIN_PSNR_DB,
    );
    expect(await ssim(thumb.data, expected[i]!), `SSIM of ${thumb.size.name}`).toBeGreaterThanOrEqual(
      MIN_SSIM,
    );
    const [oursToBest, referenceToBest] = await Promise.all([
      psnr(thumb.data, best[i]!),
      psnr(expected[i]!, best[i]!),
    ]);
    const largest = Math.max(...spec.sizes.map((s) => s.width * s.height));
    const loss = thumb.size.width * thumb.size.height === largest ? MAX_LOSS_DB.largest : MAX_LOSS_DB.derived;
    expect(oursToBest, `PSNR of ${thumb.size.name} against the full-decode result`).toBeGreaterThanOrEqual(
      referenceToBest - loss,
    );
  }
}

describe("makeThumbnails matches one pipeline per size", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])("applies EXIF orientation %i", async (orientation) => {
    // Prepare
    const input = await (await card(960, 640)).jpeg({ quality: 90 }).withMetadata({ orientation }).toBuffer();

    // Act
    const ours = await makeThumbnails(input, SPEC, LIMITS);

    // Assess
    await expectMatches(ours, input, SPEC);
    const landscape = orientation < 5;
    expect(ours.map((t) => [t.width, t.height])).toEqual(
      landscape
        ? [
            [320, 213],
            [96, 64],
          ]
        : [
            [213, 320],
            [64, 96],
          ],
    );
  });

  it("converts an embedded Display P3 profile to sRGB, and the bound notices when that is skipped", async () => {
    // Prepare
    const input = await (await card(1024, 768)).withIccProfile("p3").jpeg({ quality: 90 }).toBuffer();
    const iccIgnored = await sharp(input, { ignoreIcc: true })
      .resize(320, 320, { fit: "inside" })
      .jpeg()
      .toBuffer();

    // Act
    const ours = await makeThumbnails(input, SPEC, LIMITS);

    // Assess
    const expected = await reference(input, SPEC);
    await expectMatches(ours, input, SPEC);
    expect(await psnr(iccIgnored, expected[0]!)).toBeLessThan(MIN_PSNR_DB);
  });

  it("converts CMYK and greyscale originals to 3-channel sRGB", async () => {
    // Prepare
    const cmyk = await (await card(1024, 768)).toColourspace("cmyk").jpeg({ quality: 90 }).toBuffer();
    const grey = await (await card(1024, 768)).greyscale().jpeg({ quality: 90 }).toBuffer();

    for (const input of [cmyk, grey]) {
      // Act
      const ours = await makeThumbnails(input, SPEC, LIMITS);

      // Assess
      await expectMatches(ours, input, SPEC);
      expect((await sharp(ours[0]!.data).metadata()).channels).toBe(3);
    }
  });

  it("flattens transparency on white for JPEG, and the bound notices when it is not", async () => {
    // Prepare
    const input = await (await card(1024, 768, 4)).png().toBuffer();
    const onBlack = await sharp(input).resize(320, 320, { fit: "inside" }).flatten().jpeg().toBuffer();

    // Act
    const ours = await makeThumbnails(input, SPEC, LIMITS);

    // Assess
    const expected = await reference(input, SPEC);
    await expectMatches(ours, input, SPEC);
    expect(await psnr(onBlack, expected[0]!)).toBeLessThan(MIN_PSNR_DB);
  });

  it("makes WebP from a WebP original (shrink-on-load by scale)", async () => {
    // Prepare
    const input = await (await card(1024, 768)).webp({ quality: 90 }).toBuffer();
    const spec: OutputSpec = { ...SPEC, format: "webp" };

    // Act
    const ours = await makeThumbnails(input, spec, LIMITS);

    // Assess
    await expectMatches(ours, input, spec);
    expect(ours.every((t) => t.contentType === "image/webp")).toBe(true);
  });

  it("strips EXIF, XMP and ICC from the output", async () => {
    // Prepare
    const input = await (await card(960, 640))
      .jpeg({ quality: 90 })
      .withExif({ IFD0: { Copyright: "someone", Make: "camera" } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>')
      .withIccProfile("p3")
      .toBuffer();

    // Act
    const ours = await makeThumbnails(input, SPEC, LIMITS);

    // Assess
    for (const t of ours) {
      const meta = await sharp(t.data).metadata();
      expect({ exif: meta.exif, xmp: meta.xmp, icc: meta.icc, orientation: meta.orientation }).toEqual({
        exif: undefined,
        xmp: undefined,
        icc: undefined,
        orientation: undefined,
      });
    }
    await expectMatches(ours, input, SPEC);
  });

  it("matches at the production sizes, where the small size is a 1/4-scale decode of the large", async () => {
    // Prepare
    const input = await (await card(3000, 2250)).jpeg({ quality: 90 }).toBuffer();

    // Act
    const ours = await makeThumbnails(input, DEFAULT_OUTPUT, LIMITS);

    // Assess
    await expectMatches(ours, input, DEFAULT_OUTPUT);
  });

  it("matches for an original exactly as large as the largest size", async () => {
    // Prepare: touching the box, so not resized, yet not strictly inside it either.
    const input = await (await card(320, 240)).jpeg({ quality: 90 }).toBuffer();

    // Act
    const ours = await makeThumbnails(input, SPEC, LIMITS);

    // Assess
    await expectMatches(ours, input, SPEC);
    expect(ours[0]).toMatchObject({ width: 320, height: 240 });
  });

  it("flattens and orients the smaller sizes of an original smaller than the sizes too", async () => {
    // Prepare: small originals take another path for their smaller sizes (see makeThumbnails).
    const transparent = await (await card(200, 150, 4)).png().toBuffer();
    const rotated = await (await card(150, 200))
      .jpeg({ quality: 90 })
      .withMetadata({ orientation: 6 })
      .toBuffer();

    // Act
    const [flat, upright] = await Promise.all([
      makeThumbnails(transparent, SPEC, LIMITS),
      makeThumbnails(rotated, SPEC, LIMITS),
    ]);

    // Assess
    await expectMatches(flat, transparent, SPEC);
    await expectMatches(upright, rotated, SPEC);
    expect(upright.map((t) => t.width > t.height)).toEqual([true, true]);
  });

  it("never enlarges an original smaller than the sizes", async () => {
    // Prepare
    const input = await (await card(200, 150)).jpeg({ quality: 90 }).toBuffer();

    // Act
    const ours = await makeThumbnails(input, SPEC, LIMITS);

    // Assess
    await expectMatches(ours, input, SPEC);
    expect(ours[0]).toMatchObject({ width: 200, height: 150 });
  });
});
