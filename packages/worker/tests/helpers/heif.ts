import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";

/**
 * HEIC fixtures made with Debian's libheif-examples (heif-enc, heif-convert), and edits of their
 * ISO-BMFF boxes for what heif-enc cannot write (rotation, mirroring, nclx colour, lying headers).
 */
const run = promisify(execFile);

/** Why the HEIC tests are skipped on this machine, or undefined when heif-enc and heif-convert run. */
export const HEIF_TOOLS_MISSING = ["heif-enc", "heif-convert", "heif-info"].some(
  (tool) => spawnSync(tool, ["--help"], { stdio: "ignore" }).error !== undefined,
)
  ? "heif-enc, heif-convert or heif-info not found: apt-get install libheif-examples"
  : undefined;

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "thumbs-heif-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Encodes PNGs (or JPEGs) with heif-enc into one HEIC; the first is the primary image. */
export function heifEnc(images: Buffer[], args: string[] = ["-q", "90"]): Promise<Buffer> {
  return inTempDir(async (dir) => {
    const inputs = await Promise.all(
      images.map(async (image, i) => {
        const path = join(
          dir,
          `in-${i}.${(await sharp(image).metadata()).format === "jpeg" ? "jpg" : "png"}`,
        );
        await writeFile(path, image);
        return path;
      }),
    );
    await run("heif-enc", [...args, ...inputs, "-o", join(dir, "out.heic")]);
    return readFile(join(dir, "out.heic"));
  });
}

/** libheif's own decode of the primary image, as a PNG (with the ICC profile, when the HEIC has one). */
export function heifConvert(heic: Buffer): Promise<Buffer> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, "in.heic"), heic);
    await run("heif-convert", ["--quiet", join(dir, "in.heic"), join(dir, "out.png")]);
    return readFile(join(dir, "out.png"));
  });
}

/** The item IDs of the top-level images, in file order, as heif-info lists them. */
export function imageIds(heic: Buffer): Promise<number[]> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, "in.heic"), heic);
    const { stdout } = await run("heif-info", [join(dir, "in.heic")]);
    return [...stdout.matchAll(/^image: \d+x\d+ \(id=(\d+)\)/gm)].map((m) => Number(m[1]));
  });
}

interface Box {
  type: string;
  start: number;
  end: number;
}

function boxes(b: Buffer, start: number, end: number): Box[] {
  const found: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    const size = b.readUInt32BE(at);
    found.push({ type: b.subarray(at + 4, at + 8).toString("latin1"), start: at, end: at + size });
    at += size;
  }
  return found;
}

const child = (b: Buffer, parent: Box, type: string, headerBytes = 8): Box => {
  const box = boxes(b, parent.start + headerBytes, parent.end).find((x) => x.type === type);
  if (!box) throw new Error(`expected a ${type} box in ${parent.type}`);
  return box;
};

/** A box of `type` around `payload`. */
export function box(type: string, payload: Buffer | number[]): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, "latin1");
  return Buffer.concat([header, body]);
}

/** An nclx colour box (ITU-T H.273 code points), full range. */
export function nclx(primaries: number, transfer: number, matrix: number): Buffer {
  const payload = Buffer.alloc(11);
  payload.write("nclx", 0, "latin1");
  payload.writeUInt16BE(primaries, 4);
  payload.writeUInt16BE(transfer, 6);
  payload.writeUInt16BE(matrix, 8);
  payload[10] = 0x80;
  return box("colr", payload);
}

/**
 * Edits the item properties of a single-item HEIC as heif-enc writes it (meta before mdat, ipma
 * version 0): replaces the property boxes of type `replace`, appends `add` and associates it with the
 * primary item. Box sizes and the item locations (iloc, which point past meta into mdat) follow.
 */
export function editProperties(heic: Buffer, edit: { replace?: [string, Buffer]; add?: Buffer }): Buffer {
  const meta = boxes(heic, 0, heic.length).find((x) => x.type === "meta")!;
  const iprp = child(heic, meta, "iprp", 12);
  const ipco = child(heic, iprp, "ipco");
  const ipma = child(heic, iprp, "ipma");
  const properties = boxes(heic, ipco.start + 8, ipco.end).map((p) =>
    edit.replace && p.type === edit.replace[0] ? edit.replace[1] : heic.subarray(p.start, p.end),
  );
  if (edit.add) properties.push(edit.add);
  let associations = heic.subarray(ipma.start + 8, ipma.end);
  if (edit.add) {
    // version/flags (4), entry count (4), then the first item's ID (2), association count (1), one
    // byte per association (essential flag, 1-based property index).
    const count = associations[10]!;
    associations = Buffer.concat([
      associations.subarray(0, 10),
      Buffer.from([count + 1]),
      associations.subarray(11, 11 + count),
      Buffer.from([0x80 | properties.length]),
      associations.subarray(11 + count),
    ]);
  }
  const newIprp = box(
    "iprp",
    Buffer.concat([box("ipco", Buffer.concat(properties)), box("ipma", associations)]),
  );
  const metaBody = boxes(heic, meta.start + 12, meta.end).map((b) =>
    b.type === "iprp" ? newIprp : heic.subarray(b.start, b.end),
  );
  const newMeta = box("meta", Buffer.concat([heic.subarray(meta.start + 8, meta.start + 12), ...metaBody]));
  shiftItemLocations(newMeta, newMeta.length - (meta.end - meta.start));
  return Buffer.concat([heic.subarray(0, meta.start), newMeta, heic.subarray(meta.end)]);
}

/** Adds `delta` to the file offset of every item stored in the file (not in idat) in the iloc box. */
function shiftItemLocations(meta: Buffer, delta: number): void {
  const iloc = child(meta, { type: "meta", start: 0, end: meta.length }, "iloc", 12);
  const version = meta[iloc.start + 8]!;
  const [offsetSize, lengthSize, baseSize] = [
    meta[iloc.start + 12]! >> 4,
    meta[iloc.start + 12]! & 15,
    meta[iloc.start + 13]! >> 4,
  ];
  const indexSize = version >= 1 ? meta[iloc.start + 13]! & 15 : 0;
  const read = (at: number, n: number) =>
    n === 0 ? 0 : n === 4 ? meta.readUInt32BE(at) : Number(meta.readBigUInt64BE(at));
  const write = (at: number, n: number, v: number) =>
    n === 4 ? meta.writeUInt32BE(v, at) : meta.writeBigUInt64BE(BigInt(v), at);
  let at = iloc.start + 14;
  const items = meta.readUInt16BE(at);
  at += 2;
  for (let i = 0; i < items; i++) {
    // Item ID, construction method (0: offsets into the file; 1: into idat, which does not move).
    const inFile = version === 0 || (meta.readUInt16BE(at + 2) & 15) === 0;
    at += 2 + (version >= 1 ? 2 : 0) + 2; // item ID, construction method, data reference index
    if (baseSize && inFile) write(at, baseSize, read(at, baseSize) + delta);
    at += baseSize;
    const extents = meta.readUInt16BE(at);
    at += 2;
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      if (!baseSize && inFile) write(at, offsetSize, read(at, offsetSize) + delta);
      at += offsetSize + lengthSize;
    }
  }
}

/** Overwrites the first image-size (ispe) property: a header that lies about the image's dimensions. */
export function withIspe(heic: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(heic);
  const at = out.indexOf("ispe", 0, "latin1");
  out.writeUInt32BE(width, at + 8);
  out.writeUInt32BE(height, at + 12);
  return out;
}

/** Points the primary-item box (pitm) at another item. */
export function withPrimaryItem(heic: Buffer, itemId: number): Buffer {
  const out = Buffer.from(heic);
  out.writeUInt16BE(itemId, out.indexOf("pitm", 0, "latin1") + 8);
  return out;
}
