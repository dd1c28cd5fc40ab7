import sharp, { type Sharp } from "sharp";
import { expect } from "vitest";
import { iccSegment, jpegSegment, withSegmentsAfterSoi } from "./hostile-bytes.js";
import { type HostileCase, thumbnailsOf } from "./hostile-case.js";
import { adobeRgbProfile } from "./icc-profile.js";
import { meanColour } from "./images.js";

/**
 * Odd but decodable images: unusual colour spaces, bit depths, transparency, animation, pages, EXIF
 * orientations, wide-gamut profiles and oversized metadata. Each must end as two correct thumbnails,
 * checked by what they show (sizes, mean colours of regions), never by bytes.
 */

type Rgb = readonly [number, number, number];
type Region = { left: number; top: number; width: number; height: number };

const BLUEISH: Rgb = [0x33, 0x77, 0xaa];
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const YELLOW: Rgb = [255, 255, 0];
const WHITE: Rgb = [255, 255, 255];

const solid = (width: number, height: number, [r, g, b]: Rgb): Sharp =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } });

/** Asserts that a region's mean colour is within `tolerance` of `expected` on every channel. */
export async function expectColour(
  image: Buffer,
  expected: Rgb,
  what: string,
  region?: Region,
  tolerance = 24,
): Promise<void> {
  const actual = await meanColour(image, region);
  const worst = Math.max(...actual.map((c, i) => Math.abs(c - expected[i]!)));
  expect(worst, `${what}: mean ${actual.map(Math.round)} vs expected ${expected}`).toBeLessThanOrEqual(
    tolerance,
  );
}

/** Both thumbnails show one colour all over. */
const allOf =
  (colour: Rgb, tolerance?: number) =>
  async (large: Buffer, small: Buffer): Promise<void> => {
    await expectColour(large, colour, "large", undefined, tolerance);
    await expectColour(small, colour, "small", undefined, tolerance);
  };

// --- EXIF orientation -------------------------------------------------------------------------------

/** The picture every orientation case must show upright: 480×320, four coloured quadrants. */
const UPRIGHT = { width: 480, height: 320 };
const quadrantColour = (x: number, y: number): Rgb =>
  y < UPRIGHT.height / 2 ? (x < UPRIGHT.width / 2 ? RED : GREEN) : x < UPRIGHT.width / 2 ? BLUE : YELLOW;

/**
 * Where a stored pixel (x, y) of a `w`×`h` image lands once a viewer applies EXIF orientation `o`
 * (TIFF/EXIF spec: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° CW, 7 transverse,
 * 8 rotate 270° CW). Written out by hand, so the suite does not check sharp's rotation with itself.
 */
function displayedAt(o: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (o) {
    case 2:
      return [w - 1 - x, y];
    case 3:
      return [w - 1 - x, h - 1 - y];
    case 4:
      return [x, h - 1 - y];
    case 5:
      return [y, x];
    case 6:
      return [h - 1 - y, x];
    case 7:
      return [h - 1 - y, w - 1 - x];
    case 8:
      return [y, w - 1 - x];
    default:
      return [x, y];
  }
}

/** A JPEG whose stored pixels, displayed with EXIF `orientation`, show the upright quadrant picture. */
async function orientedJpeg(orientation: number): Promise<Buffer> {
  const swapped = orientation >= 5;
  const w = swapped ? UPRIGHT.height : UPRIGHT.width;
  const h = swapped ? UPRIGHT.width : UPRIGHT.height;
  const pixels = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      pixels.set(quadrantColour(...displayedAt(orientation, x, y, w, h)), (y * w + x) * 3);
  }
  return sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** The large thumbnail shows the quadrants upright (inner parts only, away from blurred edges). */
async function showsUprightQuadrants(large: Buffer): Promise<void> {
  const [qw, qh] = [UPRIGHT.width / 2, UPRIGHT.height / 2];
  const inner = (col: number, row: number): Region => ({
    left: col * qw + qw / 4,
    top: row * qh + qh / 4,
    width: qw / 2,
    height: qh / 2,
  });
  await expectColour(large, RED, "top left", inner(0, 0));
  await expectColour(large, GREEN, "top right", inner(1, 0));
  await expectColour(large, BLUE, "bottom left", inner(0, 1));
  await expectColour(large, YELLOW, "bottom right", inner(1, 1));
}

function orientationCases(): Promise<HostileCase[]> {
  return Promise.all(
    [1, 2, 3, 4, 5, 6, 7, 8].map(async (orientation) => ({
      name: `EXIF orientation ${orientation}`,
      key: `orientation/exif-${orientation}.jpg`,
      data: await orientedJpeg(orientation),
      expect: thumbnailsOf(UPRIGHT.width, UPRIGHT.height, showsUprightQuadrants),
    })),
  );
}

// --- colour spaces, depths, transparency, frames ----------------------------------------------------

/** Frames (or pages) of one size and distinct colours, joined into one animated/multi-page image. */
const framesOf = (colours: Rgb[]): Promise<Buffer[]> =>
  Promise.all(colours.map((c) => solid(200, 150, c).png().toBuffer()));

async function colourCases(): Promise<HostileCase[]> {
  const frames = await framesOf([RED, GREEN, BLUE]);
  // Left half transparent, right half opaque red, quantised to a palette with a tRNS chunk.
  const transparent = sharp({
    create: { width: 400, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  }).composite([{ input: await solid(200, 400, RED).png().toBuffer(), left: 200, top: 0 }]);
  // Pure sRGB green stored as Adobe RGB (1998) values (≈ 144, 255, 60) with that profile embedded:
  // shown without colour management it would look washed out; converted to sRGB it is green again.
  const adobePixels = await solid(400, 300, [144, 255, 60]).jpeg({ quality: 95 }).toBuffer();
  return [
    {
      name: "CMYK JPEG (no profile)",
      key: "colour/cmyk.jpg",
      data: await solid(640, 480, BLUEISH).toColourspace("cmyk").jpeg().toBuffer(),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH, 32)),
    },
    {
      name: "16-bit RGB PNG",
      key: "colour/rgb16.png",
      data: await solid(640, 480, BLUEISH).toColourspace("rgb16").png().toBuffer(),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "grayscale JPEG (one channel)",
      key: "colour/grey.jpg",
      data: await solid(640, 480, [128, 128, 128]).toColourspace("b-w").jpeg().toBuffer(),
      expect: thumbnailsOf(640, 480, allOf([128, 128, 128], 8)),
    },
    {
      name: "grayscale PNG with alpha",
      key: "colour/grey-alpha.png",
      data: await sharp({
        create: { width: 300, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
      })
        .toColourspace("b-w")
        .png()
        .toBuffer(),
      expect: thumbnailsOf(300, 300, allOf(WHITE, 4)),
    },
    {
      name: "palette PNG with transparency (flattened on white)",
      key: "colour/palette-alpha.png",
      data: await transparent.png({ palette: true }).toBuffer(),
      expect: thumbnailsOf(400, 400, async (large) => {
        await expectColour(large, WHITE, "transparent half", { left: 20, top: 20, width: 160, height: 360 });
        await expectColour(large, RED, "opaque half", { left: 220, top: 20, width: 160, height: 360 });
      }),
    },
    {
      name: "animated GIF (first frame only)",
      key: "frames/animated.gif",
      data: await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer(),
      expect: thumbnailsOf(200, 150, allOf(RED)),
    },
    {
      name: "multi-page TIFF (first page only)",
      key: "frames/three-pages.tiff",
      data: await sharp(frames, { join: { animated: true } })
        .tiff()
        .toBuffer(),
      expect: thumbnailsOf(200, 150, allOf(RED)),
    },
    {
      name: "AVIF",
      key: "formats/photo.avif",
      data: await solid(640, 480, BLUEISH).avif().toBuffer(),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "WebP",
      key: "formats/photo.webp",
      data: await solid(640, 480, BLUEISH).webp().toBuffer(),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "PNG named .jpg (content decides)",
      key: "formats/really-a-png.jpg",
      data: await solid(640, 480, BLUEISH).png().toBuffer(),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "Adobe RGB (1998) ICC profile → sRGB",
      key: "colour/adobe-rgb.jpg",
      data: withSegmentsAfterSoi(adobePixels, [iccSegment(adobeRgbProfile())]),
      expect: thumbnailsOf(400, 300, allOf(GREEN, 30)),
    },
  ];
}

// --- metadata ----------------------------------------------------------------------------------------

async function metadataCases(): Promise<HostileCase[]> {
  const plain = await solid(640, 480, BLUEISH).jpeg().toBuffer();
  // 100 application segments of ~64 KB each: 6.5 MB of metadata in front of a tiny image.
  const flood = Array.from({ length: 100 }, (_, i) => jpegSegment(0xe1 + (i % 14), Buffer.alloc(65_000, i)));
  return [
    {
      name: "huge EXIF (60 KB ImageDescription)",
      key: "metadata/huge-exif.jpg",
      data: await solid(640, 480, BLUEISH)
        .jpeg()
        .withExif({ IFD0: { ImageDescription: "x".repeat(60_000), Copyright: "tests" } })
        .toBuffer(),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "6.5 MB of APPn segments before the image",
      key: "metadata/segment-flood.jpg",
      data: withSegmentsAfterSoi(plain, flood),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "EXIF block with a broken IFD",
      key: "metadata/broken-exif.jpg",
      data: withSegmentsAfterSoi(plain, [
        jpegSegment(
          0xe1,
          Buffer.concat([
            Buffer.from("Exif\0\0II*\0\x08\0\0\0\xff\xff", "latin1"),
            Buffer.alloc(60_000, 0xff),
          ]),
        ),
      ]),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
    {
      name: "ICC profile of garbage (ignored)",
      key: "metadata/garbage-icc.jpg",
      data: withSegmentsAfterSoi(plain, [iccSegment(Buffer.alloc(3000, 0x55))]),
      expect: thumbnailsOf(640, 480, allOf(BLUEISH)),
    },
  ];
}

/** Every decodable-but-odd case. */
export async function oddImageCases(): Promise<HostileCase[]> {
  return [...(await colourCases()), ...(await orientationCases()), ...(await metadataCases())];
}
