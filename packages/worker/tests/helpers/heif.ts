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

/** Where one number sits in an iloc box: its offset in the buffer and its size in bytes (0, 4 or 8). */
interface IlocField {
  at: number;
  size: number;
}

interface IlocItem {
  itemId: number;
  /** 0: offsets into the file; 1: into idat (which does not move with the file). */
  method: number;
  base: IlocField;
  extents: Array<{ offset: IlocField; length: IlocField }>;
}

const readField = (b: Buffer, f: IlocField): number =>
  f.size === 0 ? 0 : f.size === 4 ? b.readUInt32BE(f.at) : Number(b.readBigUInt64BE(f.at));
const writeField = (b: Buffer, f: IlocField, value: number): void =>
  void (f.size === 4 ? b.writeUInt32BE(value, f.at) : b.writeBigUInt64BE(BigInt(value), f.at));

/** The entries of an iloc box (versions 0-2), as positions, so a caller can read or rewrite them. */
function ilocItems(b: Buffer, iloc: Box): IlocItem[] {
  const version = b[iloc.start + 8]!;
  const [offsetSize, lengthSize, baseSize] = [
    b[iloc.start + 12]! >> 4,
    b[iloc.start + 12]! & 15,
    b[iloc.start + 13]! >> 4,
  ];
  const indexSize = version >= 1 ? b[iloc.start + 13]! & 15 : 0;
  const idSize = version < 2 ? 2 : 4;
  const readId = (at: number) => (idSize === 2 ? b.readUInt16BE(at) : b.readUInt32BE(at));
  let at = iloc.start + 14;
  const count = readId(at);
  at += idSize;
  const items: IlocItem[] = [];
  for (let i = 0; i < count; i++) {
    const itemId = readId(at);
    at += idSize;
    const method = version >= 1 ? b.readUInt16BE(at) & 15 : 0;
    at += (version >= 1 ? 2 : 0) + 2; // construction method, data reference index
    const base = { at, size: baseSize };
    at += baseSize;
    const extentCount = b.readUInt16BE(at);
    at += 2;
    const extents: IlocItem["extents"] = [];
    for (let e = 0; e < extentCount; e++) {
      at += indexSize;
      extents.push({ offset: { at, size: offsetSize }, length: { at: at + offsetSize, size: lengthSize } });
      at += offsetSize + lengthSize;
    }
    items.push({ itemId, method, base, extents });
  }
  return items;
}

/** Adds `delta` to the file offset of every item stored in the file (not in idat) in the iloc box. */
function shiftItemLocations(meta: Buffer, delta: number): void {
  const iloc = child(meta, { type: "meta", start: 0, end: meta.length }, "iloc", 12);
  for (const item of ilocItems(meta, iloc).filter((i) => i.method === 0)) {
    const fields = item.base.size ? [item.base] : item.extents.map((e) => e.offset);
    for (const field of fields) writeField(meta, field, readField(meta, field) + delta);
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

/** A full box (version and flags before the payload) of `type` around `payload`. */
function fullBox(type: string, version: number, flags: number, payload: Buffer | number[]): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff));
  return box(type, Buffer.concat([header, Buffer.from(payload)]));
}

const u16 = (...values: number[]) => {
  const out = Buffer.alloc(2 * values.length);
  for (const [i, v] of values.entries()) out.writeUInt16BE(v, 2 * i);
  return out;
};
const u32 = (...values: number[]) => {
  const out = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) out.writeUInt32BE(v, 4 * i);
  return out;
};

/**
 * The coded image of a single-image HEIC as heif-enc writes it: the primary item's hvcC property and
 * its coded data (the extents its iloc entry points at, in the file).
 */
function codedImage(heic: Buffer): { hvcC: Buffer; data: Buffer } {
  const meta = boxes(heic, 0, heic.length).find((x) => x.type === "meta");
  if (!meta) throw new Error("expected a meta box");
  const primary = heic.readUInt16BE(child(heic, meta, "pitm", 12).start + 12);
  const iprp = child(heic, meta, "iprp", 12);
  const hvcC = child(heic, child(heic, iprp, "ipco"), "hvcC");
  const item = ilocItems(heic, child(heic, meta, "iloc", 12)).find((i) => i.itemId === primary);
  if (!item) throw new Error(`no iloc entry for the primary item ${primary}`);
  if (item.method !== 0)
    throw new Error(`expected the coded image in the file, not construction method ${item.method}`);
  const base = readField(heic, item.base);
  const parts = item.extents.map(({ offset, length }) => {
    const start = base + readField(heic, offset);
    return heic.subarray(start, start + readField(heic, length));
  });
  return { hvcC: heic.subarray(hvcC.start, hvcC.end), data: Buffer.concat(parts) };
}

/**
 * A multi-tile grid HEIC laid out as iPhones write theirs, which heif-enc 1.15 cannot: `image` cut
 * into `columns`×`rows` tiles of `tile`×`tile` pixels (the last column and row padded by repeating
 * the edge, then cropped away by the grid's output size), each tile coded by heif-enc as its own
 * hidden hvc1 item, and a 'grid' derived item, the primary one, referencing them in raster order
 * ('dimg'), its descriptor in idat. Each tile keeps its own hvcC; the tiles share one ispe and pixi.
 */
export async function gridHeic(
  image: Buffer,
  { tile, args = ["-q", "90"] }: { tile: number; args?: string[] },
): Promise<Buffer> {
  const { width, height } = await sharp(image).metadata();
  if (!width || !height) throw new Error("expected an image with dimensions");
  const [columns, rows] = [Math.ceil(width / tile), Math.ceil(height / tile)];
  const padded = await sharp(image)
    .extend({ right: columns * tile - width, bottom: rows * tile - height, extendWith: "copy" })
    .png()
    .toBuffer();
  const tiles = await Promise.all(
    Array.from({ length: rows * columns }, async (_, i) => {
      const region = {
        left: (i % columns) * tile,
        top: Math.floor(i / columns) * tile,
        width: tile,
        height: tile,
      };
      const heic = await heifEnc([await sharp(padded).extract(region).png().toBuffer()], args);
      return codedImage(heic);
    }),
  );

  // Items 1..n are the tiles, item n+1 the grid. Properties (1-based): hvcC of tile k is k, then the
  // tiles' ispe, the grid's ispe and pixi.
  const n = tiles.length;
  const gridId = n + 1;
  const [tileIspe, gridIspe, pixi] = [n + 1, n + 2, n + 3];
  const wideIndexes = pixi > 127;
  const association = (essential: boolean, index: number) =>
    wideIndexes ? u16((essential ? 0x8000 : 0) | index) : Buffer.from([(essential ? 0x80 : 0) | index]);
  const ipma = fullBox(
    "ipma",
    0,
    wideIndexes ? 1 : 0,
    Buffer.concat([
      u32(n + 1),
      ...tiles.map((_, k) =>
        Buffer.concat([
          u16(k + 1),
          Buffer.from([3]),
          association(true, k + 1),
          association(false, tileIspe),
          association(true, pixi),
        ]),
      ),
      u16(gridId),
      Buffer.from([2]),
      association(false, gridIspe),
      association(true, pixi),
    ]),
  );
  const ispe = (w: number, h: number) => fullBox("ispe", 0, 0, u32(w, h));
  const iprp = box(
    "iprp",
    Buffer.concat([
      box(
        "ipco",
        Buffer.concat([
          ...tiles.map((t) => t.hvcC),
          ispe(tile, tile),
          ispe(width, height),
          fullBox("pixi", 0, 0, [3, 8, 8, 8]),
        ]),
      ),
      ipma,
    ]),
  );
  // ImageGrid: version 0, flags 0 (16-bit output size), rows−1, columns−1, output width and height.
  const descriptor = Buffer.concat([Buffer.from([0, 0, rows - 1, columns - 1]), u16(width, height)]);
  const infe = (id: number, type: string, hidden: boolean) =>
    fullBox("infe", 2, hidden ? 1 : 0, Buffer.concat([u16(id, 0), Buffer.from(`${type}\0`, "latin1")]));
  const iinf = fullBox(
    "iinf",
    0,
    0,
    Buffer.concat([
      u16(n + 1),
      ...tiles.map((_, k) => infe(k + 1, "hvc1", true)),
      infe(gridId, "grid", false),
    ]),
  );
  const iref = fullBox("iref", 0, 0, box("dimg", u16(gridId, n, ...tiles.map((_, k) => k + 1))));
  // iloc version 1: 4-byte offsets and lengths, no base offset or extent index. The tiles are in
  // mdat (construction method 0, file offsets), the grid descriptor in idat (method 1).
  const ilocFor = (mdatData: number) => {
    let offset = mdatData;
    const entries = tiles.map((t, k) => {
      const entry = Buffer.concat([u16(k + 1, 0, 0, 1), u32(offset, t.data.length)]);
      offset += t.data.length;
      return entry;
    });
    return fullBox(
      "iloc",
      1,
      0,
      Buffer.concat([
        Buffer.from([0x44, 0x00]),
        u16(n + 1),
        ...entries,
        u16(gridId, 1, 0, 1),
        u32(0, descriptor.length),
      ]),
    );
  };
  const ftyp = box(
    "ftyp",
    Buffer.concat([Buffer.from("heic", "latin1"), u32(0), Buffer.from("mif1heic", "latin1")]),
  );
  const metaFor = (mdatData: number) =>
    fullBox(
      "meta",
      0,
      0,
      Buffer.concat([
        fullBox(
          "hdlr",
          0,
          0,
          Buffer.concat([u32(0), Buffer.from("pict", "latin1"), u32(0, 0, 0), Buffer.from([0])]),
        ),
        fullBox("pitm", 0, 0, u16(gridId)),
        iinf,
        iref,
        ilocFor(mdatData),
        box("idat", descriptor),
        iprp,
      ]),
    );
  // The iloc's size does not depend on the offsets in it, so one pass with placeholders fixes them.
  const mdatData = ftyp.length + metaFor(0).length + 8;
  return Buffer.concat([ftyp, metaFor(mdatData), box("mdat", Buffer.concat(tiles.map((t) => t.data)))]);
}
