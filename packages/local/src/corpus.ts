import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generationLimit, type SampleImage, samplePhoto, samplePhotoName } from "./sample-images.js";

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
    // Resumable: photos already on disk (from an interrupted run) are kept; each new one is written
    // under a temporary name and renamed, so a file with the final name is always whole.
    const present = new Set(await readdir(dir));
    const missing = Array.from({ length: count }, (_, i) => i).filter(
      (i) => !present.has(samplePhotoName(i)),
    );
    const limit = generationLimit();
    await Promise.all(
      missing.map((i) =>
        limit(async () => {
          const image = await samplePhoto(i, { seed, megapixels, detail });
          const partial = join(dir, `.${image.name}.partial`);
          await writeFile(partial, image.data);
          await rename(partial, join(dir, image.name));
        }),
      ),
    );
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
