import { DEFAULT_OUTPUT, ImageFailure } from "@thumbs/core";
import pLimit from "p-limit";
import sharp, { type Color } from "sharp";
import { describe, expect, it } from "vitest";
import { makeThumbnails } from "../src/resize.js";
import { pngBomb } from "./helpers/png-bomb.js";

const limits = { maxInputPixels: 50_000_000, timeoutSeconds: 10 };
const solid = (width: number, height: number, background: Color, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background } });

describe("makeThumbnails", () => {
  it("makes every size, fitted inside its box, as JPEG without metadata", async () => {
    // Prepare
    const input = await solid(3000, 2000, "#808080").jpeg().withMetadata().toBuffer();

    // Act
    const [large, small] = await makeThumbnails(input, DEFAULT_OUTPUT, limits);

    // Assess
    expect([large!.size.name, large!.width, large!.height]).toEqual(["large", 1024, 683]);
    expect([small!.size.name, small!.width, small!.height]).toEqual(["small", 256, 171]);
    const meta = await sharp(large!.data).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 1024, height: 683, space: "srgb" });
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(large!.contentType).toBe("image/jpeg");
  });

  it("never enlarges a small original", async () => {
    // Prepare
    const input = await solid(300, 200, "#123456").png().toBuffer();

    // Act
    const [large, small] = await makeThumbnails(input, DEFAULT_OUTPUT, limits);

    // Assess
    expect([large!.width, large!.height]).toEqual([300, 200]);
    expect([small!.width, small!.height]).toEqual([256, 171]);
  });

  it("flattens transparency onto white for JPEG", async () => {
    // Prepare
    const input = await solid(400, 400, { r: 0, g: 0, b: 0, alpha: 0 }, 4).png().toBuffer();

    // Act
    const [large] = await makeThumbnails(input, DEFAULT_OUTPUT, limits);

    // Assess
    const { channels } = await sharp(large!.data).stats();
    expect(channels).toHaveLength(3);
    expect(channels.map((c) => Math.round(c.mean))).toEqual([255, 255, 255]);
  });

  it("classifies a truncated JPEG as Corrupt", async () => {
    // Prepare
    const input = await solid(1200, 900, "#3377aa").jpeg().toBuffer();

    // Act
    const error = await makeThumbnails(input.subarray(0, input.length / 2), DEFAULT_OUTPUT, limits).catch(
      (e) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(ImageFailure);
    expect(error.failureClass).toBe("Corrupt");
  });

  it("gives every damaged image its own reason, even with several decoding at once", async () => {
    // Prepare: truncated JPEGs and PNGs, alternating. libvips has one error buffer per process, so
    // without care a failure decoded beside another loses its reason or reports the other's.
    const noise = sharp({
      create: {
        width: 1200,
        height: 900,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 40 },
      },
    });
    const jpeg = await noise.clone().jpeg().toBuffer();
    const png = await noise.clone().png({ compressionLevel: 0 }).toBuffer();
    const damaged = Array.from({ length: 40 }, (_, i) => {
      const [whole, decoder] = i % 2 ? [jpeg, /VipsJpeg/] : [png, /png/];
      return { data: whole.subarray(0, Math.floor(whole.length * (0.3 + (i % 6) / 10))), decoder };
    });
    const inFlight = pLimit(4);

    // Act
    const failures = await Promise.all(
      damaged.map((d) => inFlight(() => makeThumbnails(d.data, DEFAULT_OUTPUT, limits).catch((e) => e))),
    );

    // Assess
    const reasons = failures.map((f: ImageFailure) => `${f.failureClass}: ${f.message}`);
    for (const [i, reason] of reasons.entries()) {
      expect(reason).toMatch(/^Corrupt: The image data is damaged or truncated/);
      expect(reason).toMatch(damaged[i]!.decoder);
    }
    // Many decodes at once: on a shared CI machine they can take longer than vitest's default 5 s.
  }, 30_000);

  it("refuses a decompression bomb from its header, before decoding it", async () => {
    // Act: 50000×50000 claimed in a few hundred bytes, 2.5 gigapixels if anything tried to decode it.
    const error = await makeThumbnails(pngBomb(50_000, 50_000), DEFAULT_OUTPUT, limits).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(ImageFailure);
    expect(error.failureClass).toBe("TooLarge");
    expect(error.message).toMatch(
      /50000×50000 pixels \(2500\.0 MP\), over the 50\.0 MP limit \(MAX_INPUT_PIXELS/,
    );
  });

  it("says a 280 MP JPEG's size, the limit and the setting that raises it", async () => {
    // Prepare: a small JPEG whose frame header (SOF0) declares 20000×14000 pixels.
    const jpeg = await solid(64, 48, "#3377aa").jpeg().toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(14_000, sof + 5);
    jpeg.writeUInt16BE(20_000, sof + 7);

    // Act
    const error = await makeThumbnails(jpeg, DEFAULT_OUTPUT, limits).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(ImageFailure);
    expect(error.failureClass).toBe("TooLarge");
    expect(error.message).toBe(
      "The image is 20000×14000 pixels (280.0 MP), over the 50.0 MP limit (MAX_INPUT_PIXELS = 50000000): " +
        "upload a smaller image, or raise MAX_INPUT_PIXELS.",
    );
  });
});
