import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import type { Corpus } from "./corpus.js";
import { type ParallelRun, type RunSpec, runParallel } from "./harness.js";

/**
 * The HEIC row: the worker's own path for iPhone-style photos (libheif in WebAssembly, in a worker
 * thread, then sharp) beside native libheif (Debian's, with libde265), on HEICs made from the main
 * set's first originals. One process on one core each.
 */
const run = promisify(execFile);

/** x265 quality for the HEICs: files of the size phones write for these photos. */
const HEIC_QUALITY = 60;
/** Bump when the HEIC corpus changes, so stale caches are not reused. */
const HEIC_VERSION = 1;

export const HEIC_INSTALL_HINT = "apt-get install -y libheif-examples";

const runs = (tool: string, args: string[]) => spawnSync(tool, args, { stdio: "ignore" }).error === undefined;

/** heif-enc (to make the set) and heif-convert (the native peer), when installed. */
export function heifToolsInstalled(): boolean {
  return runs("heif-enc", ["--help"]) && runs("heif-convert", ["--help"]);
}

export interface HeicCorpus {
  dir: string;
  files: string[];
  meanBytes: number;
  meanPixels: number;
}

/** Encodes the first `count` originals of `main` with heif-enc, once; the manifest is written last. */
export async function ensureHeicCorpus(cacheDir: string, main: Corpus, count: number): Promise<HeicCorpus> {
  const dir = join(cacheDir, `heic-q${HEIC_QUALITY}-v${HEIC_VERSION}-from-${basename(main.dir)}-${count}`);
  const manifest = join(dir, "manifest.json");
  if (existsSync(manifest)) return JSON.parse(await readFile(manifest, "utf8")) as HeicCorpus;
  await mkdir(dir, { recursive: true });
  const entries = main.entries.slice(0, count);
  const files: string[] = [];
  let bytes = 0;
  let pixels = 0;
  // One at a time: heif-enc (x265) already uses every core.
  for (const entry of entries) {
    const out = join(dir, `${basename(entry.file, ".jpg")}.heic`);
    await run("heif-enc", ["-q", String(HEIC_QUALITY), join(main.dir, entry.file), "-o", out]);
    const meta = await sharp(out).metadata();
    bytes += (await stat(out)).size;
    pixels += meta.width * meta.height;
    files.push(out);
  }
  const corpus = { dir, files, meanBytes: bytes / files.length, meanPixels: pixels / files.length };
  await writeFile(`${manifest}.tmp`, JSON.stringify(corpus, null, 2));
  await rename(`${manifest}.tmp`, manifest);
  return corpus;
}

export interface HeicRow {
  label: string;
  note: string;
  run: ParallelRun;
}

/** What the HEIC contenders are: ours, and the native peers that are installed. */
export function heicContenders(
  nodeRunner: (list: string, inFlight: number) => RunSpec,
  cliRunner: (tool: string, command: string[]) => (list: string, inFlight: number) => RunSpec,
  vipsthumbnail: boolean,
): Array<{ label: string; note: string; spec: (list: string, inFlight: number) => RunSpec }> {
  return [
    {
      label: "ours: worker resize core",
      note: "libheif (WebAssembly) in a worker thread, then sharp as for JPEG: both sizes",
      spec: nodeRunner,
    },
    {
      label: "heif-convert (native libheif)",
      note: "Debian's libheif + libde265 decode and a full-size JPEG, no thumbnails: one process per original",
      spec: cliRunner("heif-convert", ["heif-convert"]),
    },
    ...(vipsthumbnail
      ? [
          {
            label: "vipsthumbnail per size (native libheif)",
            note: "Debian's libvips with libheif + libde265: one process per size per original",
            spec: cliRunner("vipsthumbnail", ["vipsthumbnail"]),
          },
        ]
      : []),
  ];
}

/** Runs each contender on the HEIC set, one process on one core; a failure leaves its line out. */
export async function measureHeic(
  list: string,
  contenders: ReturnType<typeof heicContenders>,
  inFlight: number,
  pin: boolean,
  log: (line: string) => void,
): Promise<HeicRow[]> {
  const rows: HeicRow[] = [];
  for (const c of contenders) {
    log(`  HEIC set: ${c.label}`);
    try {
      rows.push({ label: c.label, note: c.note, run: await runParallel(c.spec(list, inFlight), 1, pin) });
    } catch (error) {
      log(`  ${c.label} failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
  return rows;
}

/** The report's HEIC lines: ms per image, and ours against each native peer. */
export function formatHeic(corpus: HeicCorpus, rows: HeicRow[]): string[] {
  const ms = (r: HeicRow) => r.run.wallMs / r.run.images;
  const ours = rows[0]?.label.startsWith("ours") ? rows[0] : undefined;
  return [
    `HEIC set: ${corpus.files.length} HEICs (heif-enc -q ${HEIC_QUALITY}) of the main set's first originals, ` +
      `mean ${(corpus.meanBytes / 1e6).toFixed(2)} MB, ${(corpus.meanPixels / 1e6).toFixed(1)} MP; one process on one core`,
    ...rows.map(
      (r) =>
        `  ${r.label}: ${ms(r).toFixed(0)} ms/img${ours && r !== ours ? `, ours ${(ms(ours) / ms(r)).toFixed(2)}× its time` : ""}; ${r.note}`,
    ),
  ];
}
