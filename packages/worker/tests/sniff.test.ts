import { ImageFailure } from "@thumbs/core";
import sharp, { type TiffOptions } from "sharp";
import { describe, expect, it } from "vitest";
import { sniffImage } from "../src/sniff.js";

const failureOf = (bytes: Buffer): ImageFailure => {
  try {
    sniffImage(bytes);
  } catch (error) {
    return error as ImageFailure;
  }
  throw new Error("expected sniffImage to throw");
};

describe("sniffImage", () => {
  it.each(["jpeg", "png", "webp", "gif", "tiff", "avif"] as const)(
    "recognises real %s bytes",
    async (format) => {
      const bytes = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#336699" } })
        .toFormat(format)
        .toBuffer();
      expect(sniffImage(bytes)).toBe(format);
    },
  );

  it.each([
    ["an empty object", Buffer.alloc(0), "Corrupt", /empty \(0 bytes\)/],
    ["a tiny object", Buffer.from([1, 2, 3]), "Corrupt", /only 3 bytes/],
    ["a PDF", Buffer.from("%PDF-1.7\n%âãÏÓ\n1 0 obj"), "Unsupported", /PDF document/],
    ["an HTML page", Buffer.from("<!DOCTYPE html><html><body>hi</body></html>"), "Unsupported", /HTML page/],
    [
      "an SVG",
      Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
      "Unsupported",
      /SVG/,
    ],
    [
      "plain text",
      Buffer.from("Dear customer, thanks for your order.\n".repeat(5)),
      "Unsupported",
      /plain text/,
    ],
    ["a ZIP", Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(40)]), "Unsupported", /ZIP archive/],
    [
      "unknown binary",
      Buffer.from([0, 1, 2, 250, 251, 252, 253, 0, 0, 0, 0, 0, 9, 9]),
      "Unsupported",
      /first bytes 00 01 02/,
    ],
  ])("refuses %s with a precise class and message", (_, bytes, cls, message) => {
    const failure = failureOf(bytes);
    expect(failure).toBeInstanceOf(ImageFailure);
    expect(failure.failureClass).toBe(cls);
    expect(failure.message).toMatch(message);
  });

  it("names HEIC as unsupported and says how to fix it", () => {
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from("ftypheic\0\0\0\0mif1heic"),
      Buffer.alloc(64),
    ]);
    const failure = failureOf(heic);
    expect(failure.failureClass).toBe("Unsupported");
    expect(failure.message).toMatch(/HEIC.*convert to JPEG/);
  });

  describe("TIFF structure (libvips calls a truncated TIFF an unsupported format)", () => {
    const tiffOf = (options: TiffOptions, width = 64, height = 48) =>
      sharp({ create: { width, height, channels: 3, background: "#336699" } })
        .tiff(options)
        .toBuffer();
    const variants: Array<[string, () => Promise<Buffer>]> = [
      ["LZW strips", () => tiffOf({ compression: "lzw" })],
      ["uncompressed strips", () => tiffOf({ compression: "none" })],
      ["JPEG-compressed strips", () => tiffOf({ compression: "jpeg" })],
      ["tiles", () => tiffOf({ tile: true, tileWidth: 64, tileHeight: 64 }, 300, 200)],
    ];

    it.each(variants)("accepts a whole TIFF of %s", async (_, make) => {
      expect(sniffImage(await make())).toBe("tiff");
    });

    it.each(variants)("calls a TIFF of %s cut anywhere Corrupt, naming the cut", async (_, make) => {
      // Prepare: sharp writes the directory after the pixels, as many writers do.
      const tiff = await make();

      // Act: every cut point past the 12 bytes needed to sniff at all.
      const classes = new Set<string>();
      for (let length = 12; length < tiff.length; length++) {
        const failure = failureOf(tiff.subarray(0, length));
        classes.add(
          `${failure.failureClass}: ${/^The TIFF file is truncated or damaged: /.test(failure.message)}`,
        );
      }

      // Assess
      expect([...classes]).toEqual(["Corrupt: true"]);
    });

    it("checks big-endian TIFFs and absurd value counts without reading past the end", () => {
      const header = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x01, 0x00, 0x00]); // directory at 65536
      expect(failureOf(Buffer.concat([header, Buffer.alloc(100)])).message).toMatch(
        /at byte 65536.*108 bytes/,
      );
      // One StripOffsets entry claiming 2^30 LONG values.
      const ifd = Buffer.from([
        0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x11, 0x01, 4, 0, 0, 0, 0, 0x40, 8, 0, 0, 0,
      ]);
      const failure = failureOf(Buffer.concat([ifd, Buffer.alloc(4)]));
      expect(failure.failureClass).toBe("Corrupt");
      expect(failure.message).toMatch(/value of tag 273 .* is cut off/);
    });
  });
});
