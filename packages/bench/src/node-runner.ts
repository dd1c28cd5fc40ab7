/**
 * Child process for the node contenders: the worker's resize core, naive sharp, and the libvips
 * decode floor. Started by harness.ts; speaks the protocol in protocol.ts.
 */
import { readFile } from "node:fs/promises";
import {
  DEFAULT_IMAGE_TIMEOUT_SECONDS,
  DEFAULT_MAX_INPUT_PIXELS,
  DEFAULT_OUTPUT,
  type OutputSpec,
} from "@thumbs/core";
import pLimit from "p-limit";
import sharp from "sharp";
import { readyThenWaitForGo, reportError, reportResult, requireOption, runnerOption } from "./protocol.js";

type Work = (input: Buffer) => Promise<unknown>;

async function workFor(mode: string, spec: OutputSpec): Promise<Work> {
  if (mode === "ours") {
    // The worker's sharp settings (one libvips thread per pipeline, no cache), as its handler applies
    // them: only in this mode's process, so the naive contender keeps sharp's defaults.
    const { applyResizeSettings, makeThumbnails } = await import("@thumbs/worker");
    applyResizeSettings();
    const limits = {
      maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
      timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS,
    };
    return (input) => makeThumbnails(input, spec, limits);
  }
  if (mode === "naive") {
    // As most sharp code is written: sharp's defaults, one pipeline (and so one decode) per size.
    return (input) =>
      Promise.all(
        spec.sizes.map((size) =>
          sharp(input)
            .rotate()
            .resize(size.width, size.height, { fit: "inside", withoutEnlargement: true })
            .jpeg({ quality: spec.quality })
            .toBuffer(),
        ),
      );
  }
  if (mode === "floor") {
    // The same shrink-on-load decode as ours (same target, so the same 1/2, 1/4 or 1/8 scale), then
    // nearest-neighbour sampling, the cheapest way sharp offers to get those pixels out.
    sharp.concurrency(1);
    sharp.cache(false);
    const largest = [...spec.sizes].sort((a, b) => b.width * b.height - a.width * a.height)[0]!;
    return (input) =>
      sharp(input, { sequentialRead: true, autoOrient: true })
        .resize(largest.width, largest.height, { fit: "inside", withoutEnlargement: true, kernel: "nearest" })
        .raw()
        .toBuffer();
  }
  if (mode === "turbo-hybrid") {
    sharp.concurrency(1);
    sharp.cache(false);
    const { loadTurboJpeg, turboHybrid } = await import("./turbo-hybrid.js");
    const turbo = loadTurboJpeg();
    if (turbo instanceof Error) throw turbo;
    return turboHybrid(turbo);
  }
  throw new Error(`Expected --mode ours, naive, floor or turbo-hybrid, received ${JSON.stringify(mode)}.`);
}

async function main(argv: string[]): Promise<void> {
  const mode = requireOption(argv, "mode");
  const files = (await readFile(requireOption(argv, "list"), "utf8")).split("\n").filter(Boolean);
  const concurrency = Number(runnerOption(argv, "concurrency") ?? "1");
  // Lazy: read each original only when its turn comes, as the worker fetches it, so peak RSS counts
  // no more originals than are in flight. Otherwise all are read first, to time the resize alone.
  const lazy = argv.includes("--lazy");
  const work = await workFor(mode, DEFAULT_OUTPUT);

  const preloaded = lazy ? [] : await Promise.all(files.map((f) => readFile(f)));
  const input = (i: number) => (lazy ? readFile(files[i]!) : Promise.resolve(preloaded[i]!));
  for (let i = 0; i < Math.min(2, files.length); i++) await work(await input(i));

  await readyThenWaitForGo();
  const limit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(files.map((_, i) => limit(async () => work(await input(i)))));
  const wallMs = performance.now() - started;
  reportResult({ images: files.length, wallMs, maxRssKb: process.resourceUsage().maxRSS });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    reportError(error);
    process.exit(1);
  },
);
