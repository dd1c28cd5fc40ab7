import { ImageFailure } from "@thumbs/core";

/** What the pipeline accepts, for messages. */
const ACCEPTED = "JPEG, PNG, WebP, AVIF, HEIC, GIF or TIFF";

/**
 * Looks at the first bytes before handing them to libvips, so that empty files, documents named
 * `.jpg` and formats the pipeline does not decode get a precise message instead of a decoder error.
 */
const IMAGE_SIGNATURES: ReadonlyArray<[string, (b: Buffer) => boolean]> = [
  ["jpeg", (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ["png", (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ["gif", (b) => b.subarray(0, 4).toString("latin1") === "GIF8"],
  [
    "webp",
    (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP",
  ],
  ["tiff", (b) => ["II*\0", "MM\0*"].includes(b.subarray(0, 4).toString("latin1"))],
  ["avif", (b) => isoBrand(b, ["avif", "avis"])],
  ["heif", (b) => looksLikeHeif(b)],
];

const HEIF_BRANDS = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"];

function isoBrand(b: Buffer, brands: string[]): boolean {
  if (b.length < 12 || b.subarray(4, 8).toString("latin1") !== "ftyp") return false;
  const boxSize = Math.min(b.readUInt32BE(0), b.length, 64);
  for (let at = 8; at + 4 <= boxSize; at += 4) {
    if (brands.includes(b.subarray(at, at + 4).toString("latin1"))) return true;
  }
  return false;
}

/** An ISO base-media file with a HEIF brand and no AVIF one: a HEIC photo (or HEIF of another codec). */
export function looksLikeHeif(bytes: Buffer): boolean {
  return isoBrand(bytes, HEIF_BRANDS) && !isoBrand(bytes, ["avif", "avis"]);
}

const RAW_ADVICE = "develop it to JPEG in the camera's or a photo editor's software";

const startsWith = (b: Buffer, bytes: number[]) => bytes.every((byte, i) => b[i] === byte);

/**
 * Formats recognised by their first bytes that the pipeline does not decode (the prebuilt libvips has
 * no decoder for them, or decoding them is not a thumbnailer's job), each with what to do instead.
 */
const NAMED_UNSUPPORTED: ReadonlyArray<[string, (b: Buffer) => boolean, string]> = [
  [
    "a JPEG 2000 image",
    (b) => startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51]),
    "convert it to JPEG or PNG",
  ],
  [
    "a JPEG XL image",
    (b) => startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) || startsWith(b, [0xff, 0x0a]),
    "convert it to JPEG or PNG",
  ],
  [
    "a Photoshop document (PSD)",
    (b) => b.subarray(0, 4).toString("latin1") === "8BPS",
    "export it as JPEG or PNG",
  ],
  ["a Canon CR3 camera RAW file", (b) => isoBrand(b, ["crx "]), RAW_ADVICE],
  [
    "a Fujifilm RAF camera RAW file",
    (b) => b.subarray(0, 15).toString("latin1") === "FUJIFILMCCD-RAW",
    RAW_ADVICE,
  ],
  [
    "an Olympus ORF camera RAW file",
    (b) => ["IIRO", "IIRS", "MMOR"].includes(b.subarray(0, 4).toString("latin1")),
    RAW_ADVICE,
  ],
  ["a Panasonic RW2 camera RAW file", (b) => b.subarray(0, 4).toString("latin1") === "IIU\0", RAW_ADVICE],
];

const DOCUMENT_SIGNATURES: ReadonlyArray<[string, RegExp]> = [
  ["a PDF document", /^%PDF-/],
  ["an HTML page", /^\s*(<!doctype html|<html|<head|<body)/i],
  ["an XML document", /^\s*<\?xml/i],
  ["JSON", /^\s*[{[]\s*"/],
];

const SVG = /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg/i;

/** Returns the detected image format (one the pipeline accepts), or throws an ImageFailure saying what the bytes are instead. */
export function sniffImage(bytes: Buffer): string {
  if (bytes.length === 0) {
    throw new ImageFailure("Corrupt", "The object is empty (0 bytes): expected image data.");
  }
  for (const [what, matches, advice] of NAMED_UNSUPPORTED) {
    if (bytes.length >= 12 && matches(bytes)) {
      throw new ImageFailure(
        "Unsupported",
        `The object is ${what}, which the pipeline does not decode: ${advice}, then retry.`,
      );
    }
  }
  for (const [format, matches] of IMAGE_SIGNATURES) {
    if (bytes.length >= 12 && matches(bytes)) {
      if (format === "tiff") checkTiffStructure(bytes);
      const raw = format === "tiff" ? cameraRawKind(bytes) : undefined;
      if (raw) {
        throw new ImageFailure(
          "Unsupported",
          `The object is ${raw} camera RAW file, which the pipeline does not decode (read as TIFF it would ` +
            `give the camera's small preview or unprocessed sensor data): ${RAW_ADVICE}, then retry.`,
        );
      }
      return format;
    }
  }
  if (bytes.length >= 12 && bytes[0] === 0xff && bytes[1] === 0xd8) return "jpeg";
  const head = bytes.subarray(0, 256).toString("latin1");
  if (SVG.test(head)) {
    throw new ImageFailure(
      "Unsupported",
      "The object is an SVG vector drawing, which the pipeline does not rasterise (drawings are not photos, " +
        "and rendering untrusted SVG can fetch files and take unbounded time): export it as PNG, then retry.",
    );
  }
  const zip = head.startsWith("PK\u0003\u0004");
  for (const [what, pattern] of zip ? ([["a ZIP archive", /^/]] as const) : DOCUMENT_SIGNATURES) {
    if (pattern.test(head)) {
      throw new ImageFailure("Unsupported", `The object is ${what}, not an image: expected ${ACCEPTED}.`);
    }
  }
  if (bytes.length < 12) {
    throw new ImageFailure("Corrupt", `The object is only ${bytes.length} bytes: too short to be an image.`);
  }
  if (looksLikeText(bytes.subarray(0, 512))) {
    throw new ImageFailure("Unsupported", `The object is plain text, not an image: expected ${ACCEPTED}.`);
  }
  // libvips knows more formats than these, some of them risky on untrusted input: allow only photos.
  const hex = bytes
    .subarray(0, 8)
    .toString("hex")
    .replace(/(..)(?!$)/g, "$1 ");
  throw new ImageFailure(
    "Unsupported",
    `Unrecognised file format (first bytes ${hex}): expected ${ACCEPTED}.`,
  );
}

/**
 * libvips identifies a TIFF only once libtiff has read its first directory (IFD), the tag values it
 * points to and the extents of the image data, and answers "unsupported image format" when any of them
 * lies beyond the end: a truncated TIFF would be filed as Unsupported ("convert it") rather than
 * Corrupt ("re-upload it"). Checking those offsets against the bytes received names the real problem.
 */
function checkTiffStructure(bytes: Buffer): void {
  const damage = tiffDamage(bytes);
  if (damage) throw new ImageFailure("Corrupt", `The TIFF file is truncated or damaged: ${damage}.`);
}

/** Camera makers whose RAW files are TIFF-structured (NEF, ARW, PEF, …) with the Make tag in IFD0. */
const RAW_MAKERS =
  /^(nikon|sony|pentax|ricoh|samsung|leica|hasselblad|phase one|canon|kodak|minolta|konica)/i;

/**
 * Which camera RAW a TIFF-structured file is, if it is one: Canon CR2 ("CR" after the header), DNG
 * (the DNGVersion tag), or a camera maker's TIFF whose first image is a reduced preview (NewSubfileType
 * 1) or that keeps its sensor data in sub-IFDs (tag 330), as NEF and ARW do.
 */
function cameraRawKind(b: Buffer): string | undefined {
  if (b.subarray(8, 10).toString("latin1") === "CR") return "a Canon CR2";
  const le = b[0] === 0x49;
  const u16 = (at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const ifd = u32(4);
  const tags = new Map<number, number>();
  let make = "";
  for (let i = 0; i < u16(ifd); i++) {
    const entry = ifd + 2 + i * 12;
    const [tag, type, count] = [u16(entry), u16(entry + 2), u32(entry + 4)];
    tags.set(tag, type === 3 ? u16(entry + 8) : u32(entry + 8));
    if (tag === 271 && type === 2) {
      const at = count > 4 ? u32(entry + 8) : entry + 8;
      make = b.subarray(at, Math.min(at + count, b.length)).toString("latin1");
    }
  }
  if (tags.has(50706)) return "a DNG";
  const maker = RAW_MAKERS.exec(make.trim())?.[1];
  if (maker && (tags.has(330) || tags.get(254) === 1)) return `a ${maker.toUpperCase()}`;
  return undefined;
}

/** Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, … IFD). */
const TIFF_TYPE_SIZES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];
/** [offsets tag, byte counts tag] of strips and of tiles: where the image data is. */
const TIFF_DATA_TAGS: ReadonlyArray<[number, number]> = [
  [273, 279],
  [324, 325],
];

type TiffArray = { count: number; read: (k: number) => number };

function tiffDamage(b: Buffer): string | undefined {
  const le = b[0] === 0x49;
  const u16 = (at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > b.length) {
    return `its image directory (at byte ${ifd}) is not within the ${b.length} bytes received`;
  }
  const entries = u16(ifd);
  if (entries === 0 || ifd + 2 + entries * 12 + 4 > b.length) {
    return `its image directory (at byte ${ifd}, ${entries} entries) is cut off at byte ${b.length}`;
  }
  // Offsets and byte counts are read in place, never copied: a hostile file may list millions.
  const arrays = new Map<number, TiffArray>();
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    const [tag, type, count] = [u16(entry), u16(entry + 2), u32(entry + 4)];
    const size = (TIFF_TYPE_SIZES[type] ?? 0) * count;
    const at = size > 4 ? u32(entry + 8) : entry + 8;
    if (at + size > b.length) {
      return `the value of tag ${tag} (bytes ${at}-${at + size}) is cut off at byte ${b.length}`;
    }
    if (type === 3) arrays.set(tag, { count, read: (k) => u16(at + k * 2) });
    if (type === 4) arrays.set(tag, { count, read: (k) => u32(at + k * 4) });
  }
  for (const [offsetsTag, countsTag] of TIFF_DATA_TAGS) {
    const offsets = arrays.get(offsetsTag);
    const counts = arrays.get(countsTag);
    if (!offsets || !counts) continue;
    for (let k = 0; k < Math.min(offsets.count, counts.count); k++) {
      const end = offsets.read(k) + counts.read(k);
      if (end > b.length) return `its image data runs to byte ${end}, past the ${b.length} bytes received`;
    }
  }
  return undefined;
}

function looksLikeText(sample: Buffer): boolean {
  let printable = 0;
  for (const byte of sample)
    if (byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127) || byte >= 0xc2) printable++;
  return printable / sample.length > 0.95;
}
