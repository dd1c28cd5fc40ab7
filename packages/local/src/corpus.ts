import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type SampleImage, samplePhotos } from "./sample-images.js";

/**
 * Generated photo sets are cached on disk by their parameters, so the demo, the load test and the
 * benchmark pay for generation once.
 */
export async function cachedPhotos(
  cacheDir: string,
  count: number,
  options: { seed?: string; megapixels?: number; detail?: number } = {},
): Promise<{ dir: string; files: string[] }> {
  const { seed = "thumbs", megapixels = 2, detail = 1 } = options;
  const dir = join(cacheDir, `photos-${seed}-${count}-${megapixels}mp-d${detail}`);
  const marker = join(dir, ".complete");
  const exists = await stat(marker).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(dir, { recursive: true });
    // Generate in chunks so a 1,000-image corpus never sits in memory at once.
    for (let start = 0; start < count; start += 50) {
      const chunk = await samplePhotos(Math.min(50, count - start), {
        seed,
        megapixels,
        detail,
        offset: start,
      });
      await Promise.all(chunk.map((image) => writeFile(join(dir, image.name), image.data)));
    }
    await writeFile(marker, "");
  }
  const files = (await readdir(dir)).filter((name) => !name.startsWith(".")).sort();
  return { dir, files: files.map((f) => join(dir, f)) };
}

/** Reads every regular file of a folder (not recursive) as the images of one order. */
export async function readFolder(dir: string): Promise<SampleImage[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
  return Promise.all(files.map(async (name) => ({ name, data: await readFile(join(dir, name)) })));
}
