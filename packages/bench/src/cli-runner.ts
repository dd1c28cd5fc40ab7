/**
 * Child process for command-line peers (vipsthumbnail, ImageMagick, GraphicsMagick): runs the tool
 * once per size per original, as a shell script or a Lambda calling out to it would, so each image
 * pays the tool's process start. Speaks the protocol in protocol.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DEFAULT_OUTPUT } from "@thumbs/core";
import { readyThenWaitForGo, reportError, reportResult, requireOption } from "./protocol.js";

/** Arguments for one tool call making one size of one original. */
function toolArgs(
  tool: string,
  prefix: string[],
  file: string,
  size: { name: string; width: number; height: number },
  quality: number,
  outDir: string,
): string[] {
  const box = `${size.width}x${size.height}>`;
  const out = join(outDir, `${basename(file, ".jpg")}-${size.name}.jpg`);
  switch (tool) {
    case "vipsthumbnail":
      // vipsthumbnail orients from EXIF and exports sRGB by default; strip drops metadata.
      return [...prefix, file, "--size", box, "-o", `${out}[Q=${quality},strip]`];
    case "imagemagick":
      return [...prefix, file, "-auto-orient", "-resize", box, "-quality", String(quality), "-strip", out];
    case "graphicsmagick":
      return [
        ...prefix,
        file,
        "-auto-orient",
        "-resize",
        box,
        "-quality",
        String(quality),
        "+profile",
        "*",
        out,
      ];
    default:
      throw new Error(`Expected --tool vipsthumbnail, imagemagick or graphicsmagick, received ${tool}.`);
  }
}

async function main(argv: string[]): Promise<void> {
  const tool = requireOption(argv, "tool");
  const command = JSON.parse(requireOption(argv, "command")) as string[];
  const files = readFileSync(requireOption(argv, "list"), "utf8").split("\n").filter(Boolean);
  const outDir = mkdtempSync(join(tmpdir(), `bench-${tool}-`));
  // One thread per tool process: the all-cores run starts one process per core instead, as for every
  // other contender, so the tools' own threading neither helps nor hurts them.
  const env = { ...process.env, MAGICK_THREAD_LIMIT: "1", OMP_NUM_THREADS: "1", VIPS_CONCURRENCY: "1" };
  const callsFor = (file: string) =>
    DEFAULT_OUTPUT.sizes.map((size) =>
      toolArgs(tool, command.slice(1), file, size, DEFAULT_OUTPUT.quality, outDir),
    );
  const runOne = (file: string) => {
    for (const args of callsFor(file)) {
      const r = spawnSync(command[0]!, args, { env, encoding: "utf8" });
      if (r.error || r.status !== 0) {
        throw new Error(`${command[0]} failed on ${basename(file)}: ${r.error?.message ?? r.stderr.trim()}`);
      }
    }
  };
  try {
    if (files[0]) runOne(files[0]);
    await readyThenWaitForGo();
    const started = performance.now();
    for (const file of files) runOne(file);
    const wallMs = performance.now() - started;
    reportResult({ images: files.length, wallMs, maxRssKb: process.resourceUsage().maxRSS });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    reportError(error);
    process.exit(1);
  },
);
