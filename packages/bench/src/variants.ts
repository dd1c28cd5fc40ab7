/**
 * `pnpm --filter @thumbs/bench variants`: the alternatives to the worker's resize core that
 * docs/PERFORMANCE.md reports, timed one after another in one process on the main corpus.
 * For stable numbers pin it: `taskset -c 0 node packages/bench/dist/variants.js`.
 */
import { readFile } from "node:fs/promises";
import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_OUTPUT } from "@thumbs/core";
import { applyResizeSettings, makeThumbnails } from "@thumbs/worker";
import sharp, { type KernelEnum } from "sharp";
import { benchCommand, parseArgs } from "./args.js";
import { corpusFiles, defaultCacheDir, ensureCorpus, mainSet } from "./corpus.js";
import { alignColumns } from "./table.js";

const WHITE = { r: 255, g: 255, b: 255 };
const [LARGE, SMALL] = DEFAULT_OUTPUT.sizes;
const QUALITY = DEFAULT_OUTPUT.quality;
const INPUT = { failOn: "error", sequentialRead: true, autoOrient: true, pages: 1 } as const;

interface Options {
  kernel?: keyof KernelEnum;
  optimiseCoding?: boolean;
  sequentialRead?: boolean;
}

/** The worker's previous scheme, knobs exposed: decode once to raw pixels, encode both sizes from them. */
async function viaRaw(input: Buffer, o: Options = {}): Promise<Buffer[]> {
  const jpeg = {
    quality: QUALITY,
    progressive: false,
    chromaSubsampling: "4:2:0",
    optimiseCoding: o.optimiseCoding,
  };
  const { data, info } = await sharp(input, { ...INPUT, sequentialRead: o.sequentialRead ?? true })
    .resize(LARGE!.width, LARGE!.height, { fit: "inside", withoutEnlargement: true, kernel: o.kernel })
    .toColourspace("srgb")
    .flatten({ background: WHITE })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  return Promise.all([
    sharp(data, raw).jpeg(jpeg).toBuffer(),
    sharp(data, raw)
      .resize(SMALL!.width, SMALL!.height, { fit: "inside", withoutEnlargement: true })
      .jpeg(jpeg)
      .toBuffer(),
  ]);
}

const limits = { maxInputPixels: DEFAULT_MAX_INPUT_PIXELS, timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS };
const VARIANTS: Array<[string, (input: Buffer) => Promise<Buffer[]>]> = [
  [
    "shipped: makeThumbnails()",
    async (b) => (await makeThumbnails(b, DEFAULT_OUTPUT, limits)).map((t) => t.data),
  ],
  ["previous: raw pixels, linear", (b) => viaRaw(b, { kernel: "linear", optimiseCoding: false })],
  ["first: raw, lanczos3, optimiseCoding on", (b) => viaRaw(b, { kernel: "lanczos3", optimiseCoding: true })],
  ["lanczos3, optimiseCoding off", (b) => viaRaw(b, { kernel: "lanczos3", optimiseCoding: false })],
  ["linear, optimiseCoding on", (b) => viaRaw(b, { kernel: "linear", optimiseCoding: true })],
  ["cubic, optimiseCoding off", (b) => viaRaw(b, { kernel: "cubic", optimiseCoding: false })],
  ["lanczos2, optimiseCoding off", (b) => viaRaw(b, { kernel: "lanczos2", optimiseCoding: false })],
  [
    "random access (sequentialRead off)",
    (b) => viaRaw(b, { kernel: "linear", sequentialRead: false, optimiseCoding: false }),
  ],
];

const variantsCommand = () =>
  benchCommand({
    name: "pnpm --filter @thumbs/bench variants",
    description:
      "Times the alternatives to the worker's resize core that docs/PERFORMANCE.md reports, one after another " +
      "in one process on the main corpus. Reads bench's options; --big, --heic, --cores and --json are ignored.",
    only: "run only the variants whose names contain a or b (the shipped one always runs)",
  });

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), variantsCommand());
  // Every variant runs under the worker's sharp settings, as the shipped one does in the worker.
  applyResizeSettings();
  const cacheDir = args.cacheDir ?? defaultCacheDir();
  const corpus = await ensureCorpus(cacheDir, mainSet(args.images, args.megapixels));
  const inputs = await Promise.all(corpusFiles(corpus).map((f) => readFile(f)));
  // `--only a,b` keeps the variants whose names contain a or b (the shipped one always runs first).
  const variants = VARIANTS.filter(
    ([name], i) => i === 0 || args.only.length === 0 || args.only.some((part) => name.includes(part)),
  );
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  // CPU time as well as wall: on a shared (virtual) machine it moves less with the neighbours' load.
  const cpuTimes = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const bytes = new Map<string, number>();
  // Interleaved rounds, so a burst of load elsewhere on the machine spreads over every variant.
  for (let round = 0; round < args.rounds + 1; round++) {
    for (const [name, make] of variants) {
      const started = performance.now();
      const cpuAtStart = process.cpuUsage();
      let total = 0;
      for (const input of inputs) total += (await make(input))[0]!.length;
      const cpu = process.cpuUsage(cpuAtStart);
      // Round 0 warms up (code paths, page cache) and is not counted.
      if (round > 0) {
        times.get(name)!.push((performance.now() - started) / inputs.length);
        cpuTimes.get(name)!.push((cpu.user + cpu.system) / 1000 / inputs.length);
      }
      bytes.set(name, total / inputs.length);
    }
  }
  const best = (name: string) => Math.min(...times.get(name)!);
  const bestCpu = (name: string) => Math.min(...cpuTimes.get(name)!);
  const shipped = best(variants[0]![0]);
  const shippedCpu = bestCpu(variants[0]![0]);
  const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)}`;
  const rows = variants.map(([name]) => [
    name,
    best(name).toFixed(1),
    signed(best(name) - shipped),
    bestCpu(name).toFixed(1),
    signed(bestCpu(name) - shippedCpu),
    (bytes.get(name)! / 1024).toFixed(0),
  ]);
  console.log(`${inputs.length} originals, one at a time, best of ${args.rounds} rounds`);
  const header = ["variant", "ms/img", "vs shipped", "CPU ms/img", "vs shipped", "large KiB"];
  console.log(alignColumns([header, ...rows]).join("\n"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
