import { existsSync } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { samplePhotos } from "@thumbs/local";
import pLimit from "p-limit";
import sharp from "sharp";

/** Bump when the generator's output changes, so stale caches are not reused. */
const GENERATOR_VERSION = 1;

export interface CorpusSpec {
  seed: string;
  count: number;
  megapixels: number;
  /** Fine grain, see PhotoSpec.detail. */
  detail: number;
  /** Mid-scale structure, see PhotoSpec.texture. */
  texture: number;
  /** JPEG quality of the originals. */
  quality: number;
}

export interface CorpusEntry {
  file: string;
  bytes: number;
  width: number;
  height: number;
  /** EXIF orientation, 1 when absent. */
  orientation: number;
}

export interface Corpus {
  spec: CorpusSpec;
  dir: string;
  entries: CorpusEntry[];
}

/**
 * The main set: tuned so the originals average ~1.2 MB at ~8.8 MP, like phone photos. Grain alone
 * would average away in a thumbnail, so mid-scale texture keeps the thumbnails as costly to encode as
 * a real photo's (~90 KiB for 1024 px at quality 80).
 */
export function mainSet(count: number, megapixels = 8.8): CorpusSpec {
  return { seed: "bench", count, megapixels, detail: 0.1, texture: 0.4, quality: 82 };
}

/** A few ~24 MP originals (18-30 MP, as samplePhotos jitters sizes ±25%). */
export function bigSet(count: number): CorpusSpec {
  return { seed: "bench-24mp", count, megapixels: 24, detail: 0.1, texture: 0.4, quality: 82 };
}

/** <repo>/.cache/bench, found from this file so it is the same from any working directory. */
export function defaultCacheDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, ".cache", "bench");
}

export function corpusDirName(spec: CorpusSpec): string {
  const { seed, count, megapixels, detail, texture, quality } = spec;
  return `${seed}-${count}x${megapixels}mp-d${detail}-t${texture}-q${quality}-v${GENERATOR_VERSION}`;
}

/**
 * Generates the corpus once and reuses it afterwards. The manifest is written last, through a rename,
 * so an interrupted generation is never mistaken for a complete one.
 */
export async function ensureCorpus(
  cacheDir: string,
  spec: CorpusSpec,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<Corpus> {
  const dir = join(cacheDir, corpusDirName(spec));
  const manifestPath = join(dir, "manifest.json");
  const cached = await readManifest(manifestPath);
  if (cached && cached.length === spec.count) return { spec, dir, entries: cached };
  await mkdir(dir, { recursive: true });
  const limit = pLimit(Math.max(1, availableParallelism()));
  let done = 0;
  const entries = await Promise.all(
    Array.from({ length: spec.count }, (_, index) =>
      limit(async () => {
        const [image] = await samplePhotos(1, {
          seed: spec.seed,
          megapixels: spec.megapixels,
          detail: spec.detail,
          texture: spec.texture,
          quality: spec.quality,
          offset: index,
        });
        const file = join(dir, image!.name);
        await writeFile(file, image!.data);
        const meta = await sharp(image!.data).metadata();
        onProgress(++done, spec.count);
        return {
          file: image!.name,
          bytes: image!.data.length,
          width: meta.width,
          height: meta.height,
          orientation: meta.orientation ?? 1,
        } satisfies CorpusEntry;
      }),
    ),
  );
  await writeFile(`${manifestPath}.tmp`, JSON.stringify({ spec, entries }, null, 2));
  await rename(`${manifestPath}.tmp`, manifestPath);
  return { spec, dir, entries };
}

async function readManifest(path: string): Promise<CorpusEntry[] | undefined> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const parsed = JSON.parse(await readFile(path, "utf8")) as { entries?: CorpusEntry[] };
  return parsed.entries;
}

export function corpusFiles(corpus: Corpus): string[] {
  return corpus.entries.map((e) => join(corpus.dir, e.file));
}

export function describeCorpus(corpus: Corpus): string {
  const n = corpus.entries.length;
  const mb = corpus.entries.reduce((s, e) => s + e.bytes, 0) / n / 1e6;
  const mp = corpus.entries.reduce((s, e) => s + e.width * e.height, 0) / n / 1e6;
  const rotated = corpus.entries.filter((e) => e.orientation !== 1).length;
  return `${n} JPEGs, mean ${mb.toFixed(2)} MB, mean ${mp.toFixed(1)} MP, ${rotated} with EXIF orientation`;
}
