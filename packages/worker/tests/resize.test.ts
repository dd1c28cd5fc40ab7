import { DEFAULT_OUTPUT, ImageFailure } from "@thumbs/core";
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
    const input = await solid(300, 200, "#123456").png().toBuffer();
    const [large, small] = await makeThumbnails(input, DEFAULT_OUTPUT, limits);
    expect([large!.width, large!.height]).toEqual([300, 200]);
    expect([small!.width, small!.height]).toEqual([256, 171]);
  });

  it("flattens transparency onto white for JPEG", async () => {
    const input = await solid(400, 400, { r: 0, g: 0, b: 0, alpha: 0 }, 4).png().toBuffer();
    const [large] = await makeThumbnails(input, DEFAULT_OUTPUT, limits);
    const { channels } = await sharp(large!.data).stats();
    expect(channels).toHaveLength(3);
    expect(channels.map((c) => Math.round(c.mean))).toEqual([255, 255, 255]);
  });

  it("classifies a truncated JPEG as Corrupt", async () => {
    const input = await solid(1200, 900, "#3377aa").jpeg().toBuffer();
    const error = await makeThumbnails(input.subarray(0, input.length / 2), DEFAULT_OUTPUT, limits).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ImageFailure);
    expect(error.failureClass).toBe("Corrupt");
  });

  it("refuses a decompression bomb from its header, before decoding it", async () => {
    // 50000×50000 claimed in a few hundred bytes: 2.5 gigapixels if anything tried to decode it.
    const error = await makeThumbnails(pngBomb(50_000, 50_000), DEFAULT_OUTPUT, limits).catch((e) => e);
    expect(error).toBeInstanceOf(ImageFailure);
    expect(error.failureClass).toBe("TooLarge");
    expect(error.message).toMatch(/pixel/);
  });
});
