import { ImageFailure } from "@thumbs/core";
import sharp, { type TiffOptions } from "sharp";
import { describe, expect, it } from "vitest";
import { looksLikeHeif, sniffImage } from "../src/sniff.js";

/**
 * A little-endian TIFF whose first directory holds `tags` ([tag, type, value]; type 2 = ASCII, stored
 * after the directory), optionally with `marker` written at byte 8 and the directory after it.
 */
function tinyTiff(tags: Array<[number, number, number | string]>, marker = ""): Buffer {
  const ifd = marker ? 16 : 8;
  const out = Buffer.alloc(ifd + 2 + tags.length * 12 + 4 + 64 + 256);
  out.write("II*\0", 0, "latin1");
  out.writeUInt32LE(ifd, 4);
  out.write(marker, 8, "latin1");
  out.writeUInt16LE(tags.length, ifd);
  let extra = ifd + 2 + tags.length * 12 + 4;
  for (const [i, [tag, type, value]] of tags.entries()) {
    const entry = ifd + 2 + i * 12;
    out.writeUInt16LE(tag, entry);
    out.writeUInt16LE(type, entry + 2);
    if (typeof value === "string") {
      out.writeUInt32LE(value.length + 1, entry + 4);
      out.writeUInt32LE(extra, entry + 8);
      out.write(value, extra, "latin1");
      extra += value.length + 1;
    } else {
      out.writeUInt32LE(type === 1 ? 4 : 1, entry + 4);
      if (type === 3) out.writeUInt16LE(value, entry + 8);
      else out.writeUInt32LE(value, entry + 8);
    }
  }
  return out;
}

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

  it("accepts HEIC/HEIF, and leaves AVIF to libvips", async () => {
    // Prepare
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from("ftypheic\0\0\0\0mif1heic"),
      Buffer.alloc(64),
    ]);
    const avif = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#123" } })
      .avif()
      .toBuffer();

    // Act
    const formats = [sniffImage(heic), sniffImage(avif)];

    // Assess
    expect(formats).toEqual(["heif", "avif"]);
    expect([looksLikeHeif(heic), looksLikeHeif(avif)]).toEqual([true, false]);
  });

  const iso = (brand: string) =>
    Buffer.concat([
      Buffer.from([0, 0, 0, 20]),
      Buffer.from(`ftyp${brand}\0\0\0\0${brand}`),
      Buffer.alloc(64),
    ]);
  const padded = (head: number[] | string) => Buffer.concat([Buffer.from(head as never), Buffer.alloc(64)]);

  it.each([
    [
      "JPEG 2000 (JP2)",
      padded([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
      /JPEG 2000.*convert it to JPEG or PNG/,
    ],
    ["JPEG 2000 (codestream)", padded([0xff, 0x4f, 0xff, 0x51, 0, 0x2f]), /JPEG 2000/],
    [
      "JPEG XL (container)",
      padded([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
      /JPEG XL/,
    ],
    ["JPEG XL (codestream)", padded([0xff, 0x0a, 0xfa, 0x7f]), /JPEG XL/],
    ["PSD", padded("8BPS\u0000\u0001"), /Photoshop document \(PSD\).*export it as JPEG or PNG/],
    ["CR3", iso("crx "), /Canon CR3 camera RAW.*develop it to JPEG/],
    ["RAF", padded("FUJIFILMCCD-RAW 0201"), /Fujifilm RAF camera RAW/],
    ["ORF", padded("IIRO\u0008\u0000\u0000\u0000"), /Olympus ORF camera RAW/],
    ["RW2", padded("IIU\u0000\u0018\u0000\u0000\u0000"), /Panasonic RW2 camera RAW/],
    ["CR2", tinyTiff([[256, 3, 16]], "CR\u0002\u0000"), /Canon CR2 camera RAW/],
    [
      "DNG",
      tinyTiff([
        [256, 3, 16],
        [50706, 1, 0x01040000],
      ]),
      /DNG camera RAW/,
    ],
    [
      "NEF",
      tinyTiff([
        [254, 4, 1],
        [256, 3, 16],
        [271, 2, "NIKON CORPORATION"],
      ]),
      /NIKON camera RAW/,
    ],
  ])("names %s as Unsupported, with what to do", (_, bytes, message) => {
    // Act
    const failure = failureOf(bytes);

    // Assess
    expect(failure.failureClass).toBe("Unsupported");
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toMatch(/Unrecognised|first bytes/);
  });

  it("describes SVG as a vector drawing the pipeline does not rasterise", () => {
    // Act
    const failure = failureOf(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'),
    );

    // Assess
    expect(failure.failureClass).toBe("Unsupported");
    expect(failure.message).toMatch(/SVG vector drawing.*does not rasterise.*export it as PNG/);
    expect(failure.message).not.toMatch(/not an image/);
  });

  it("still takes a camera maker's ordinary TIFF as a TIFF", () => {
    // Prepare: a TIFF with the Make tag but no RAW structure (no preview IFD, no sub-IFDs).
    const tiff = tinyTiff([
      [256, 3, 16],
      [257, 3, 16],
      [271, 2, "NIKON"],
    ]);

    // Act
    const format = sniffImage(tiff);

    // Assess
    expect(format).toBe("tiff");
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
      // Prepare: a big-endian header whose directory is at 65536, and one StripOffsets entry claiming
      // 2^30 LONG values.
      const header = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x01, 0x00, 0x00]);
      const ifd = Buffer.from([
        0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x11, 0x01, 4, 0, 0, 0, 0, 0x40, 8, 0, 0, 0,
      ]);

      // Act
      const far = failureOf(Buffer.concat([header, Buffer.alloc(100)]));
      const failure = failureOf(Buffer.concat([ifd, Buffer.alloc(4)]));

      // Assess
      expect(far.message).toMatch(/at byte 65536.*108 bytes/);
      expect(failure.failureClass).toBe("Corrupt");
      expect(failure.message).toMatch(/value of tag 273 .* is cut off/);
    });
  });
});
