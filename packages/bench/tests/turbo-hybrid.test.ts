import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_OUTPUT } from "@thumbs/core";
import { makeThumbnails } from "@thumbs/worker";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { INSTALL_HINTS } from "../src/peers.js";
import { loadTurboJpeg, turboHybrid } from "../src/turbo-hybrid.js";

const turbo = loadTurboJpeg();
if (turbo instanceof Error) {
  console.warn(`turbo-hybrid tests skipped: ${turbo.message}. Install: ${INSTALL_HINTS.turbojpeg}`);
}
const LIMITS = { maxInputPixels: DEFAULT_MAX_INPUT_PIXELS, timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS };

/** 2400×1200, four distinct quadrants, so any wrong turn or mirror shows in a 2×2 thumbnail of it. */
async function quadrants(orientation: number): Promise<Buffer> {
  const colours = [
    [220, 30, 30],
    [30, 200, 30],
    [30, 30, 220],
    [230, 220, 40],
  ];
  const data = Buffer.alloc(2400 * 1200 * 3);
  for (let y = 0; y < 1200; y++) {
    for (let x = 0; x < 2400; x++) {
      data.set(colours[(y < 600 ? 0 : 2) + (x < 1200 ? 0 : 1)]!, (y * 2400 + x) * 3);
    }
  }
  return sharp(data, { raw: { width: 2400, height: 1200, channels: 3 } })
    .jpeg({ quality: 90 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** Mean absolute difference of two images' 2×2 summaries, 0-255. */
async function coarseDifference(a: Buffer, b: Buffer): Promise<number> {
  const summary = (img: Buffer) => sharp(img).resize(2, 2, { fit: "fill" }).raw().toBuffer();
  const [sa, sb] = await Promise.all([summary(a), summary(b)]);
  return sa.reduce((sum, v, i) => sum + Math.abs(v - sb[i]!), 0) / sa.length;
}

describe.skipIf(turbo instanceof Error)("turboHybrid (the bench's what-if decoder row)", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "makes both sizes, oriented as the worker orients them (EXIF orientation %i)",
    async (orientation) => {
      // Prepare
      const input = await quadrants(orientation);
      const hybrid = turboHybrid(turbo as Exclude<typeof turbo, Error>);

      // Act
      const [large, small] = await hybrid(input);
      const ours = await makeThumbnails(input, DEFAULT_OUTPUT, LIMITS);

      // Assess
      for (const [made, worker] of [
        [large!, ours[0]!.data],
        [small!, ours[1]!.data],
      ] as const) {
        const [m, w] = await Promise.all([sharp(made).metadata(), sharp(worker).metadata()]);
        expect([m.format, m.width, m.height]).toEqual(["jpeg", w.width, w.height]);
        expect(await coarseDifference(made, worker)).toBeLessThan(8);
      }
    },
  );
});
