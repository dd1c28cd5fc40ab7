/**
 * An ICC v2 matrix/TRC display profile with the Adobe RGB (1998) primaries and gamma (563/256), made
 * from the published colorimetry so the suite needs no profile file from the system. Converting with it
 * gives the same pixels as the ghostscript `a98.icc` profile (checked when this was written).
 */

const s15Fixed16 = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(Math.round(value * 65536));
  return b;
};

const xyzTag = (x: number, y: number, z: number): Buffer =>
  Buffer.concat([Buffer.from("XYZ \0\0\0\0", "latin1"), s15Fixed16(x), s15Fixed16(y), s15Fixed16(z)]);

const gammaTag = (gamma: number): Buffer => {
  const b = Buffer.alloc(14);
  b.write("curv", 0, "latin1");
  b.writeUInt32BE(1, 8); // one entry: a pure gamma, u8Fixed8
  b.writeUInt16BE(Math.round(gamma * 256), 12);
  return b;
};

const textTag = (text: string): Buffer =>
  Buffer.concat([Buffer.from("text\0\0\0\0", "latin1"), Buffer.from(`${text}\0`, "latin1")]);

/** v2 textDescriptionType: ASCII part, then empty Unicode and ScriptCode parts. */
const descriptionTag = (text: string): Buffer => {
  const ascii = Buffer.from(`${text}\0`, "latin1");
  const head = Buffer.alloc(12);
  head.write("desc", 0, "latin1");
  head.writeUInt32BE(ascii.length, 8);
  return Buffer.concat([head, ascii, Buffer.alloc(4 + 4 + 2 + 1 + 67)]);
};

const padTo4 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

const D50 = [0.9642, 1.0, 0.8249] as const;

export function adobeRgbProfile(): Buffer {
  const gamma = 563 / 256;
  const tags: Array<[string, Buffer]> = [
    ["desc", descriptionTag("Adobe RGB (1998) compatible (generated)")],
    ["cprt", textTag("No copyright")],
    ["wtpt", xyzTag(...D50)],
    // Primaries adapted to D50 (Bradford), as in Adobe's own profile.
    ["rXYZ", xyzTag(0.60974, 0.31111, 0.01947)],
    ["gXYZ", xyzTag(0.20528, 0.62567, 0.06087)],
    ["bXYZ", xyzTag(0.14919, 0.06322, 0.74457)],
    ["rTRC", gammaTag(gamma)],
    ["gTRC", gammaTag(gamma)],
    ["bTRC", gammaTag(gamma)],
  ];
  const table = Buffer.alloc(4 + tags.length * 12);
  table.writeUInt32BE(tags.length, 0);
  let offset = 128 + table.length;
  const bodies = tags.map(([signature, data], i) => {
    table.write(signature, 4 + i * 12, "latin1");
    table.writeUInt32BE(offset, 8 + i * 12);
    table.writeUInt32BE(data.length, 12 + i * 12);
    const padded = padTo4(data);
    offset += padded.length;
    return padded;
  });
  const header = Buffer.alloc(128);
  header.writeUInt32BE(offset, 0); // total size
  header.writeUInt32BE(0x02100000, 8); // version 2.1
  header.write("mntrRGB XYZ ", 12, "latin1"); // display class, RGB data, XYZ connection space
  header.writeUInt16BE(2024, 24);
  header.writeUInt16BE(1, 26);
  header.writeUInt16BE(1, 28);
  header.write("acsp", 36, "latin1");
  for (const [i, v] of D50.entries()) s15Fixed16(v).copy(header, 68 + i * 4); // PCS illuminant
  return Buffer.concat([header, table, ...bodies]);
}
