import { crc32 } from "node:zlib";

/**
 * Byte-level builders for the bad-input suite: files that sharp will not write for us (bombs, fake
 * HEIC, documents, archives, hand-made JPEG segments). Everything is made here, nothing is downloaded.
 */

// The worker's unit tests build the same bomb; one builder serves both suites.
export { pngBomb } from "../../../packages/worker/tests/helpers/png-bomb.js";

/** One JPEG marker segment (APPn, COM…): marker, 16-bit length including itself, payload (≤ 65,533 bytes). */
export function jpegSegment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** Inserts segments right after SOI, where metadata segments live. */
export const withSegmentsAfterSoi = (jpeg: Buffer, segments: Buffer[]): Buffer =>
  Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);

/** An APP2 segment carrying a whole ICC profile in one chunk (sequence 1 of 1). */
export const iccSegment = (profile: Buffer): Buffer =>
  jpegSegment(0xe2, Buffer.concat([Buffer.from("ICC_PROFILE\0\x01\x01", "latin1"), profile]));

/**
 * The offset of a header segment (e.g. 0xc0 for SOF0, 0xda for SOS), found by walking the segment
 * lengths rather than searching bytes (table data may contain any byte pair). Throws if absent, so a
 * broken generator fails loudly instead of producing a case that tests nothing.
 */
export function jpegMarkerOffset(jpeg: Buffer, marker: number): number {
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    if (jpeg[at + 1] === marker) return at;
    if (jpeg[at + 1] === 0xda) break;
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  throw new Error(`JPEG marker 0x${marker.toString(16)} not found before the image data`);
}

/** A copy of a baseline JPEG whose frame header (SOF0) claims other dimensions: a bomb in a few KB. */
export function withClaimedJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(jpeg);
  const sof = jpegMarkerOffset(copy, 0xc0);
  copy.writeUInt16BE(height, sof + 5);
  copy.writeUInt16BE(width, sof + 7);
  return copy;
}

const isoBox = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, body]);
};

/**
 * A HEIF file whose boxes are junk (`ftyp` with the given brands, then `meta` and `mdat` boxes of
 * junk): a HEIC to the sniffer, whose header libheif then cannot read (Corrupt). Real HEICs are made
 * with heif-enc in the worker's tests (packages/worker/tests/decode-heic.test.ts).
 */
export function fakeHeif(majorBrand: string, compatible: string[]): Buffer {
  const ftyp = Buffer.from(`${majorBrand}\0\0\0\0${compatible.join("")}`, "latin1");
  return Buffer.concat([
    isoBox("ftyp", ftyp),
    isoBox("meta", Buffer.alloc(300, 0x11)),
    isoBox("mdat", Buffer.alloc(4000, 0x5a)),
  ]);
}

/** A minimal but well-formed one-page PDF (correct xref offsets), as a customer might upload an invoice. */
export function minimalPdf(): Buffer {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    "<< /Length 35 >>\nstream\nBT /F1 12 Tf 20 100 Td (Hi) Tj ET\nendstream",
  ];
  let body = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, "latin1"));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, "latin1");
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, "0")} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, "latin1");
}

/** A real ZIP archive with one stored (uncompressed) file, e.g. a zipped photo folder named `.jpg`. */
export function storedZip(name: string, content: Buffer): Buffer {
  const fileName = Buffer.from(name, "utf8");
  const crc = crc32(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4); // version needed
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const localSize = local.length + fileName.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(localSize, 16);
  return Buffer.concat([local, fileName, content, central, fileName, end]);
}
