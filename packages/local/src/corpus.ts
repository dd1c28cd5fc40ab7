import { mkdir, readdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cameraPhoto, cameraPhotoSpec } from "./camera-photos.js";
import { generationLimit, samplePhoto, samplePhotoName } from "./sample-images.js";

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
  return cachedSet(
    dir,
    count,
    samplePhotoName,
    async (i) => (await samplePhoto(i, { seed, megapixels, detail })).data,
  );
}

/** Bump when the camera-style generator's output changes, so stale caches are not reused. */
const CAMERA_SET_VERSION = 1;

/** A camera-style set (see cameraPhotoSpec), cached on disk like cachedPhotos. */
export async function cachedCameraPhotos(
  cacheDir: string,
  count: number,
  options: { seed?: string } = {},
): Promise<{ dir: string; files: string[] }> {
  const { seed = "camera" } = options;
  const dir = join(cacheDir, `camera-${seed}-${count}-v${CAMERA_SET_VERSION}`);
  const name = (i: number) => cameraPhotoSpec(i, seed).name;
  return cachedSet(dir, count, name, async (i) => (await cameraPhoto(i, seed)).data);
}

async function cachedSet(
  dir: string,
  count: number,
  name: (index: number) => string,
  render: (index: number) => Promise<Buffer>,
): Promise<{ dir: string; files: string[] }> {
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
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !present.has(name(i)));
    const limit = generationLimit();
    await Promise.all(
      missing.map((i) =>
        limit(async () => {
          const data = await render(i);
          const partial = join(dir, `.${name(i)}.partial`);
          await writeFile(partial, data);
          await rename(partial, join(dir, name(i)));
        }),
      ),
    );
    await writeFile(marker, "");
  }
  const files = (await readdir(dir)).filter((file) => !file.startsWith(".")).sort();
  return { dir, files: files.map((f) => join(dir, f)) };
}

/**
 * Every file of a folder (not recursive), as the images of one order. Only listed: each file is read
 * when its upload starts, so a folder of camera-size files is never held in memory at once. Symbolic
 * links count as the files they point to; a broken one is listed too, so its upload reports it.
 */
export async function listFolder(dir: string): Promise<Array<{ name: string; path: string }>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = await Promise.all(
    entries
      .filter((e) => !e.name.startsWith(".") && (e.isFile() || e.isSymbolicLink()))
      .map(async (e) => {
        if (e.isFile()) return e.name;
        const target = await stat(join(dir, e.name)).catch(() => undefined);
        return target?.isDirectory() ? undefined : e.name;
      }),
  );
  return names
    .filter((name) => name !== undefined)
    .sort()
    .map((name) => ({ name, path: join(dir, name) }));
}
