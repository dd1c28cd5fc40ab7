import { photoLikeJpeg, seededBytes } from "@thumbs/local";
import sharp from "sharp";
import {
  fakeHeif,
  jpegMarkerOffset,
  minimalPdf,
  pngBomb,
  storedZip,
  withClaimedJpegSize,
} from "./hostile-bytes.js";
import { failsAs, HOSTILE_LIMITS, type HostileCase, thumbnailsOf } from "./hostile-case.js";
import { oddImageCases } from "./hostile-images.js";

/**
 * The bad-input suite's cases (issue 7): hostile or odd originals, all generated here, each with the one
 * outcome it must end as: a classified error record, or two correct thumbnails.
 */

/**
 * What a decoder-detected Corrupt record says. libvips keeps one error buffer per process; the worker
 * runs a failed image again alone (resize.ts), so each record carries its own reason even when many
 * damaged images fail at once, never "could not be decoded (Unknown error)".
 */
const DAMAGED = /damaged or truncated/;

async function brokenCases(): Promise<HostileCase[]> {
  const photo = await photoLikeJpeg({ seed: "hostile", width: 800, height: 600 });
  const cut = (fraction: number) => photo.subarray(0, Math.floor(photo.length * fraction));
  const blue = () => sharp({ create: { width: 400, height: 300, channels: 3, background: "#3377aa" } });
  const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
  return [
    ...[10, 50, 90].map((pct) => ({
      name: `JPEG truncated at ${pct}%`,
      key: `truncated/photo-${pct}pct.jpg`,
      data: cut(pct / 100),
      expect: failsAs("Corrupt", DAMAGED),
    })),
    {
      name: "JPEG headers only (cut before the scan)",
      key: "truncated/headers-only.jpg",
      data: photo.subarray(0, jpegMarkerOffset(photo, 0xda)),
      expect: failsAs("Corrupt", DAMAGED),
    },
    {
      name: "PNG truncated at 50%",
      key: "truncated/half.png",
      data: half(await blue().png({ compressionLevel: 0 }).toBuffer()),
      expect: failsAs("Corrupt", DAMAGED),
    },
    {
      name: "GIF truncated at 50%",
      key: "truncated/half.gif",
      data: half(await blue().gif().toBuffer()),
      expect: failsAs("Corrupt", DAMAGED),
    },
    {
      name: "WebP truncated at 50%",
      key: "truncated/half.webp",
      data: half(await blue().webp().toBuffer()),
      expect: failsAs("Corrupt", DAMAGED),
    },
    {
      name: "AVIF truncated at 50%",
      key: "truncated/half.avif",
      data: half(await blue().avif().toBuffer()),
      expect: failsAs("Corrupt", DAMAGED),
    },
    {
      name: "TIFF truncated at 50%",
      key: "truncated/half.tiff",
      data: half(await blue().tiff({ compression: "lzw" }).toBuffer()),
      // Refused by the sniffer: libvips itself would call it an unsupported format.
      expect: failsAs("Corrupt", /TIFF file is truncated or damaged/),
    },
    {
      name: "zero-byte file",
      key: "empty/zero-bytes.jpg",
      data: Buffer.alloc(0),
      expect: failsAs("Corrupt", /empty \(0 bytes\)/),
    },
    {
      name: "three bytes of JPEG signature",
      key: "empty/three-bytes.jpg",
      data: Buffer.from([0xff, 0xd8, 0xff]),
      expect: failsAs("Corrupt", /only 3 bytes/),
    },
  ];
}

function notImageCases(): HostileCase[] {
  const text = (s: string) => Buffer.from(s, "utf8");
  return [
    {
      name: "plain text named .jpg",
      key: "documents/shipping-note.jpg",
      data: text("Shipping note: 2 × prints, 1 × canvas.\nThank you for your order!\n".repeat(10)),
      expect: failsAs("Unsupported", /plain text/),
    },
    {
      name: "HTML page named .jpg",
      key: "documents/error-page.jpg",
      data: text("<!DOCTYPE html>\n<html><head><title>403</title></head><body>Forbidden</body></html>\n"),
      expect: failsAs("Unsupported", /HTML page/),
    },
    {
      name: "PDF named .jpg",
      key: "documents/invoice.jpg",
      data: minimalPdf(),
      expect: failsAs("Unsupported", /PDF document/),
    },
    {
      name: "SVG named .jpg",
      key: "documents/logo.jpg",
      data: text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="50000" height="50000"><circle r="9"/></svg>',
      ),
      expect: failsAs("Unsupported", /SVG/),
    },
    {
      name: "JSON named .jpg",
      key: "documents/api-error.jpg",
      data: text('{"error":"AccessDenied","message":"signature expired"}'),
      expect: failsAs("Unsupported", /JSON/),
    },
    {
      name: "ZIP archive named .jpg",
      key: "documents/photos.jpg",
      data: storedZip("IMG_0001.jpg", text("not really a photo")),
      expect: failsAs("Unsupported", /ZIP archive/),
    },
    {
      name: "HEIC whose boxes are garbage (ftyp heic)",
      key: "formats/IMG_0001.HEIC",
      data: fakeHeif("heic", ["mif1", "heic", "miaf"]),
      expect: failsAs("Corrupt", /HEIC/),
    },
    {
      name: "HEIF whose boxes are garbage (ftyp mif1) named .jpg",
      key: "formats/iphone-export.jpg",
      data: fakeHeif("mif1", ["mif1", "heic"]),
      expect: failsAs("Corrupt", /HEIC/),
    },
    {
      name: "random bytes named .jpg",
      key: "documents/random.jpg",
      data: seededBytes("hostile-random", 4096),
      expect: failsAs("Unsupported", /Unrecognised file format/),
    },
  ];
}

async function limitCases(): Promise<HostileCase[]> {
  const { maxInputPixels, maxInputBytes } = HOSTILE_LIMITS;
  const blue = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: "#3377aa" } });
  const small = await blue(320, 240).jpeg().toBuffer();
  // Just over and just under the pixel limit, with real pixel data (a flat colour keeps them small).
  const over = { width: 5000, height: Math.floor(maxInputPixels / 5000) + 100 };
  const under = Math.floor(Math.sqrt(maxInputPixels)) - 100;
  return [
    {
      name: "PNG decompression bomb (50000×50000, one colour)",
      key: "bombs/png-50000x50000.png",
      data: pngBomb(50_000, 50_000),
      expect: failsAs("TooLarge", /pixel/),
    },
    {
      name: "JPEG whose header claims 60000×60000",
      key: "bombs/jpeg-claims-60000x60000.jpg",
      data: withClaimedJpegSize(small, 60_000, 60_000),
      expect: failsAs("TooLarge", /pixel/),
    },
    {
      name: `real JPEG just over MAX_INPUT_PIXELS (${over.width}×${over.height})`,
      key: "bombs/just-over-pixel-limit.jpg",
      data: await blue(over.width, over.height).jpeg().toBuffer(),
      expect: failsAs("TooLarge", /pixel/),
    },
    {
      name: `real PNG just under MAX_INPUT_PIXELS (${under}×${under})`,
      key: "bombs/just-under-pixel-limit.png",
      data: await blue(under, under).png({ compressionLevel: 1 }).toBuffer(),
      expect: thumbnailsOf(under, under),
    },
    {
      name: "file over MAX_INPUT_BYTES (a JPEG padded with zeros)",
      key: "bombs/over-byte-limit.jpg",
      data: Buffer.concat([small, Buffer.alloc(maxInputBytes + 1024 * 1024)]),
      expect: failsAs("TooLarge", /MAX_INPUT_BYTES/),
    },
  ];
}

/**
 * Odd object keys, all holding one good photo: thumbnails must appear at the deterministic
 * `thumbnailKey(...)`, inside the order's folder whatever the source key contains.
 * `prefix` is the order's prefix, so the longest keys can be made exactly 1,000 characters / 1,024 bytes.
 */
async function oddKeyCases(prefix: string): Promise<HostileCase[]> {
  const data = await photoLikeJpeg({ seed: "hostile-keys", width: 320, height: 240 });
  const unicode = "unicode/Crème brûlée – 日本 🍰.jpg";
  const longAscii = `long/${"a".repeat(1000 - prefix.length - "long/".length - ".jpg".length)}.jpg`;
  const roomInBytes = 1024 - Buffer.byteLength(`${prefix}longest/.jpg`);
  const longUtf8 = `longest/${"é".repeat(Math.floor(roomInBytes / 2))}${"e".repeat(roomInBytes % 2)}.jpg`;
  const keys: Array<[string, string]> = [
    ["key with spaces and parentheses", "with spaces/My Photo (1) final.jpg"],
    ["unicode key (NFC)", unicode.normalize("NFC")],
    ["unicode key (NFD, a different S3 key)", unicode.normalize("NFD")],
    ["key with `..` segments", "dots/../../escape.jpg"],
    ["key aiming at /etc/passwd", "../../../etc/passwd.jpg"],
    ["key with `.` segments and `//`", "./here/.//photo.jpg"],
    ["key with URL-special characters", "url %20+#?&=;chars.jpg"],
    ["key with a backslash", "windows\\path\\photo.jpg"],
    ["key that is only an extension", ".jpg"],
    ["key of 1,000 characters", longAscii],
    ["key of 1,024 UTF-8 bytes (S3's maximum)", longUtf8],
  ];
  return keys.map(([name, key]) => ({ name, key, data, expect: thumbnailsOf(320, 240) }));
}

export { HOSTILE_LIMITS, type HostileCase } from "./hostile-case.js";

/** Every case of the suite (at least 30), for an order whose keys all start with `prefix`. */
export async function hostileInputs(prefix: string): Promise<HostileCase[]> {
  return [
    ...(await brokenCases()),
    ...notImageCases(),
    ...(await limitCases()),
    ...(await oddImageCases()),
    ...(await oddKeyCases(prefix)),
  ];
}
