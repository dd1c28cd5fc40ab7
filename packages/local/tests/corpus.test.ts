import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cachedPhotos } from "../src/corpus.js";
import { samplePhoto, samplePhotos } from "../src/sample-images.js";

describe("cached photo sets", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it("generate the same photos as samplePhotos, in index order", async () => {
    // Prepare
    const cache = await mkdtemp(join(tmpdir(), "thumbs-corpus-"));
    dirs.push(cache);

    // Act
    const { files } = await cachedPhotos(cache, 5, { megapixels: 0.05 });
    const expected = await samplePhotos(5, { megapixels: 0.05 });

    // Assess
    expect(files.map((f) => basename(f))).toEqual(expected.map((p) => p.name));
    for (const [i, file] of files.entries())
      expect((await readFile(file)).equals(expected[i]!.data)).toBe(true);
  });

  it("resume an interrupted run: whole photos are kept, partial ones never counted", async () => {
    // Prepare: photos 0 and 1 on disk (1 replaced, to show it is not regenerated), photo 2 missing
    // with a stray partial write left behind, and no completion marker.
    const cache = await mkdtemp(join(tmpdir(), "thumbs-corpus-"));
    dirs.push(cache);
    const dir = join(cache, "photos-thumbs-3-0.05mp-d1");
    await cachedPhotos(cache, 3, { megapixels: 0.05 });
    await rm(join(dir, ".complete"));
    await rm(join(dir, "photo-00002.jpg"));
    await writeFile(join(dir, "photo-00001.jpg"), "kept as is");
    await writeFile(join(dir, ".photo-00002.jpg.partial"), "cut short");

    // Act
    const { files } = await cachedPhotos(cache, 3, { megapixels: 0.05 });

    // Assess: the existing file was not regenerated; the missing one was, whole.
    expect(files.map((f) => basename(f))).toEqual(["photo-00000.jpg", "photo-00001.jpg", "photo-00002.jpg"]);
    expect(await readFile(files[1]!, "utf8")).toBe("kept as is");
    const third = await samplePhoto(2, { megapixels: 0.05 });
    expect((await readFile(files[2]!)).equals(third.data)).toBe(true);
    expect(await readdir(dir)).toContain(".complete");
  });
});
