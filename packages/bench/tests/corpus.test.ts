import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { type CorpusSpec, corpusFiles, ensureCorpus } from "../src/corpus.js";

const TINY: CorpusSpec = { seed: "test", count: 4, megapixels: 0.05, detail: 0.1, texture: 0.4, quality: 82 };
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "bench-corpus-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("ensureCorpus", () => {
  it("generates the same corpus from the same parameters, anywhere", async () => {
    // Prepare
    const [a, b] = [await tempDir(), await tempDir()];

    // Act
    const [first, second] = [await ensureCorpus(a, TINY), await ensureCorpus(b, TINY)];

    // Assess
    expect(first.entries).toEqual(second.entries);
    expect(first.entries.map((e) => e.file)).toEqual([
      "photo-00000.jpg",
      "photo-00001.jpg",
      "photo-00002.jpg",
      "photo-00003.jpg",
    ]);
    // Every 7th photo from the 4th on carries EXIF orientation 6, as phone photos often do.
    expect(first.entries.map((e) => e.orientation)).toEqual([1, 1, 1, 6]);
    const decode = (files: string[]) => sharp(files[0]!).raw().toBuffer({ resolveWithObject: true });
    const [pa, pb] = await Promise.all([decode(corpusFiles(first)), decode(corpusFiles(second))]);
    expect(pa.info).toEqual(pb.info);
    const maxDiff = pa.data.reduce((m, v, i) => Math.max(m, Math.abs(v - pb.data[i]!)), 0);
    expect(maxDiff).toBe(0);
  });

  it("reuses a complete corpus instead of generating it again", async () => {
    // Prepare
    const dir = await tempDir();
    const made = await ensureCorpus(dir, TINY);
    const before = await stat(corpusFiles(made)[0]!);

    // Act
    let progressCalls = 0;
    const again = await ensureCorpus(dir, TINY, () => progressCalls++);

    // Assess
    expect(again.entries).toEqual(made.entries);
    expect(progressCalls).toBe(0);
    expect((await stat(corpusFiles(again)[0]!)).mtimeMs).toBe(before.mtimeMs);
  });
});
