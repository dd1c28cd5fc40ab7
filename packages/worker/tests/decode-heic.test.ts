import { ImageFailure, type OutputSpec } from "@thumbs/core";
import sharp, { type Sharp } from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { heicAsTiff } from "../src/decode-heic.js";
import { makeThumbnails, type Thumbnail } from "../src/resize.js";
import {
  box,
  editProperties,
  gridHeic,
  HEIF_TOOLS_MISSING,
  heifConvert,
  heifEnc,
  imageIds,
  nclx,
  withIspe,
  withPrimaryItem,
} from "./helpers/heif.js";

/**
 * HEIC originals through makeThumbnails(), held to libheif's own decode (Debian's heif-convert) or to
 * the source the fixture was encoded from, by PSNR: thumbnails as correct as the JPEG path's.
 */
const SPEC: OutputSpec = {
  sizes: [
    { name: "large", width: 320, height: 320 },
    { name: "small", width: 96, height: 96 },
  ],
  format: "jpeg",
  quality: 90,
};
const LIMITS = { maxInputPixels: 50_000_000, timeoutSeconds: 30 };
// Ours against the reference measures 43-45 dB; the faults checked below (colour profile ignored,
// wrong image, no mirror) measure 12-24 dB.
const MIN_PSNR_DB = 33;

if (HEIF_TOOLS_MISSING) console.warn(`HEIC tests skipped: ${HEIF_TOOLS_MISSING}`);

/** A smooth test card with distinct corners, so a rotation, a mirror or another image shows. */
function card(width: number, height: number, hue = 0): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const corner = x < width / 4 && y < height / 4 ? 90 : 0;
      data[i] = clamp(120 + 100 * Math.sin((x + hue) / 40) + corner);
      data[i + 1] = clamp(110 + 90 * Math.cos(y / 35) - corner);
      data[i + 2] = clamp(90 + 80 * Math.sin((x + y + hue) / 25));
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}
const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** The large size as the straightforward sharp pipeline makes it from a decoded image. */
const largeFrom = (image: Buffer | Sharp) =>
  (Buffer.isBuffer(image) ? sharp(image) : image)
    .resize(320, 320, { fit: "inside" })
    .toColourspace("srgb")
    .png()
    .toBuffer();

async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const pa = await sharp(a).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  const pb = await sharp(b)
    .removeAlpha()
    .toColourspace("srgb")
    .resize(pa.info.width, pa.info.height, { fit: "fill" })
    .raw()
    .toBuffer();
  let sum = 0;
  for (let i = 0; i < pa.data.length; i++) sum += (pa.data[i]! - pb[i]!) ** 2;
  const mse = sum / pa.data.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

const failureOf = (promise: Promise<unknown>): Promise<ImageFailure> =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error as ImageFailure,
  );

const dims = (t: Thumbnail) => [t.width, t.height];

// heif-enc takes seconds per fixture on a busy machine.
describe.skipIf(HEIF_TOOLS_MISSING)("HEIC originals", { timeout: 60_000 }, () => {
  let plain: Buffer;
  let p3: Buffer;

  // Prepare (shared): heif-enc is slow, so the two base fixtures are encoded once.
  beforeAll(async () => {
    plain = await heifEnc([await card(640, 480).png().toBuffer()]);
    p3 = await heifEnc([await card(640, 480).withIccProfile("p3").png().toBuffer()]);
  }, 60_000);

  it("makes every size of a HEIC, matching libheif's own decode", async () => {
    // Act
    const [large, small] = await makeThumbnails(plain, SPEC, LIMITS);

    // Assess
    expect([dims(large!), dims(small!)]).toEqual([
      [320, 240],
      [96, 72],
    ]);
    expect(await sharp(large!.data).metadata()).toMatchObject({ format: "jpeg", space: "srgb" });
    expect(await psnr(large!.data, await largeFrom(await heifConvert(plain)))).toBeGreaterThanOrEqual(
      MIN_PSNR_DB,
    );
  });

  it("converts an embedded Display P3 profile to sRGB", async () => {
    // Prepare
    const reference = await largeFrom(await heifConvert(p3));
    const profileIgnored = await largeFrom(sharp(await heifConvert(p3), { ignoreIcc: true }));

    // Act
    const [large] = await makeThumbnails(p3, SPEC, LIMITS);

    // Assess
    expect(await psnr(large!.data, reference)).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(await psnr(profileIgnored, reference)).toBeLessThan(MIN_PSNR_DB);
  });

  it("converts Display P3 declared as nclx primaries to sRGB", async () => {
    // Prepare: the P3 pixels, described by an nclx box (P3 primaries, sRGB transfer, BT.601 matrix)
    // instead of an ICC profile.
    const nclxP3 = editProperties(p3, { replace: ["colr", nclx(12, 13, 6)] });
    const reference = await largeFrom(await heifConvert(p3));

    // Act
    const [large] = await makeThumbnails(nclxP3, SPEC, LIMITS);

    // Assess
    expect(await psnr(large!.data, reference)).toBeGreaterThanOrEqual(MIN_PSNR_DB);
  });

  it("applies the HEIF rotation (irot) and ignores the EXIF orientation beside it", async () => {
    // Prepare: a JPEG source with EXIF orientation 6, whose Exif block heif-enc keeps, plus an irot
    // of 90° anticlockwise. HEIF readers apply irot and ignore the EXIF orientation.
    const source = await card(640, 480).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const rotated = editProperties(await heifEnc([source]), { add: box("irot", [1]) });
    const reference = await largeFrom(await heifConvert(rotated));
    const notRotated = await largeFrom(await heifConvert(await heifEnc([source])));

    // Act
    const [large, small] = await makeThumbnails(rotated, SPEC, LIMITS);

    // Assess
    expect([dims(large!), dims(small!)]).toEqual([
      [240, 320],
      [72, 96],
    ]);
    expect(await psnr(large!.data, reference)).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(await psnr(large!.data, await largeFrom(sharp(notRotated).rotate(-90)))).toBeGreaterThanOrEqual(
      MIN_PSNR_DB,
    );
  });

  it("applies the HEIF mirror (imir)", async () => {
    // Prepare
    const mirrored = editProperties(plain, { add: box("imir", [0]) });
    const reference = await largeFrom(await heifConvert(mirrored));

    // Act
    const [large] = await makeThumbnails(mirrored, SPEC, LIMITS);

    // Assess
    expect(await psnr(large!.data, reference)).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(await psnr(large!.data, await largeFrom(await heifConvert(plain)))).toBeLessThan(MIN_PSNR_DB);
  });

  it("decodes the primary image only, whichever item it is, and not the thumbnails", async () => {
    // Prepare: two images, each with a thumbnail, the first one primary.
    const [first, second] = await Promise.all([
      card(640, 480).png().toBuffer(),
      card(640, 480, 500).png().toBuffer(),
    ]);
    const burst = await heifEnc([first, second], ["-q", "90", "-t", "64"]);
    const [, secondId] = await imageIds(burst);

    // Act
    const [fromFirst] = await makeThumbnails(burst, SPEC, LIMITS);
    const [fromSecond] = await makeThumbnails(withPrimaryItem(burst, secondId!), SPEC, LIMITS);

    // Assess
    expect([dims(fromFirst!), dims(fromSecond!)]).toEqual([
      [320, 240],
      [320, 240],
    ]);
    expect(await psnr(fromFirst!.data, await largeFrom(first))).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(await psnr(fromSecond!.data, await largeFrom(second))).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(await psnr(fromSecond!.data, await largeFrom(first))).toBeLessThan(MIN_PSNR_DB);
  });

  it("decodes a grid image, as heif-enc writes for sizes its encoder cannot code whole", async () => {
    // Prepare: heif-enc codes a 600×40 image (under x265's 64-pixel minimum) as a taller tile inside a
    // grid item that crops it: the grid path iPhones' tiled photos take, with one tile.
    const gridded = await heifEnc([await card(600, 40).png().toBuffer()]);
    expect(gridded.includes("grid", 0, "latin1")).toBe(true);

    // Act
    const [large] = await makeThumbnails(gridded, SPEC, LIMITS);

    // Assess
    expect(dims(large!)).toEqual([320, 21]);
    expect(await psnr(large!.data, await largeFrom(await heifConvert(gridded)))).toBeGreaterThanOrEqual(
      MIN_PSNR_DB,
    );
  });

  it("decodes a multi-tile grid HEIC as iPhones write them, its last column and row cropped", async () => {
    // Prepare: a 700×450 card cut into a 3×2 grid of 256×256 tiles, each coded by heif-enc as its own
    // hidden hvc1 item; the grid item (primary, descriptor in idat) crops the 768×512 of tiles to
    // 700×450. libheif's own decode checks the fixture before it is used.
    const source = await card(700, 450).png().toBuffer();
    const tiled = await gridHeic(source, { tile: 256 });
    const reference = await heifConvert(tiled);
    expect(await sharp(reference).metadata()).toMatchObject({ width: 700, height: 450 });
    expect(await psnr(reference, source)).toBeGreaterThanOrEqual(MIN_PSNR_DB);

    // Act
    const [large, small] = await makeThumbnails(tiled, SPEC, LIMITS);

    // Assess: 700:450 (not the tiles' 768:512, 320×213), and the tiles in place.
    expect([dims(large!), dims(small!)]).toEqual([
      [320, 206],
      [96, 62],
    ]);
    expect(await psnr(large!.data, await largeFrom(reference))).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(await psnr(large!.data, await largeFrom(source))).toBeGreaterThanOrEqual(MIN_PSNR_DB);
  });

  it.each([
    ["cut in half", (h: Buffer) => h.subarray(0, h.length / 2)],
    ["cut inside its header", (h: Buffer) => h.subarray(0, 200)],
    [
      "garbage after a HEIC file type",
      (h: Buffer) => Buffer.concat([h.subarray(0, 28), Buffer.alloc(4000, 0x5a)]),
    ],
    ["smaller in its header than coded", (h: Buffer) => withIspe(h, 64, 48)],
  ])("classifies a HEIC %s as Corrupt", async (_, damage) => {
    // Act
    const failure = await failureOf(makeThumbnails(damage(plain), SPEC, LIMITS));

    // Assess
    expect(failure).toBeInstanceOf(ImageFailure);
    expect(failure.failureClass).toBe("Corrupt");
    expect(failure.message).toMatch(/HEIC/);
  });

  it("refuses a HEIC over MAX_INPUT_PIXELS from its header, with the numbers", async () => {
    // Act
    const overLimit = await failureOf(makeThumbnails(plain, SPEC, { ...LIMITS, maxInputPixels: 100_000 }));
    const bomb = await failureOf(makeThumbnails(withIspe(plain, 40_000, 30_000), SPEC, LIMITS));

    // Assess
    expect(overLimit.failureClass).toBe("TooLarge");
    expect(overLimit.message).toMatch(
      /640×480 pixels \(0\.3 MP\), over the 0\.1 MP limit \(MAX_INPUT_PIXELS/,
    );
    expect(bomb.failureClass).toBe("TooLarge");
    expect(bomb.message).toMatch(/40000×30000 pixels \(1200\.0 MP\)/);
  });

  it("stops a decode at the image's deadline, and decodes the next HEIC as usual", async () => {
    // Act: a deadline no decode can meet (starting the decoder alone takes longer).
    const late = await failureOf(heicAsTiff(plain, { ...LIMITS, timeoutSeconds: 0.001 }));
    const next = await heicAsTiff(plain, LIMITS);

    // Assess
    expect(late.failureClass).toBe("TooLarge");
    expect(late.message).toMatch(/IMAGE_TIMEOUT_SECONDS/);
    next!.release();
    expect(await sharp(next!.tiff).metadata()).toMatchObject({ format: "tiff", width: 640, height: 480 });
  });
});
