/**
 * Child process for command-line peers (vipsthumbnail, ImageMagick, GraphicsMagick, heif-convert):
 * runs the tool once per size per original (heif-convert, which cannot resize, once per original), as a shell script or a Lambda calling out to it would, so each image
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
    case "heif-convert":
      // Decodes and writes the full-size image: it cannot resize (see callsFor: once per original).
      return [...prefix, "--quiet", "-q", String(quality), file, join(outDir, `${basename(file)}.jpg`)];
    default:
      throw new Error(
        `Expected --tool vipsthumbnail, imagemagick, graphicsmagick or heif-convert, received ${tool}.`,
      );
  }
}

async function main(argv: string[]): Promise<void> {
  const tool = requireOption(argv, "tool");
  const command = JSON.parse(requireOption(argv, "command")) as string[];
  const files = readFileSync(requireOption(argv, "list"), "utf8").split("\n").filter(Boolean);
  const outDir = mkdtempSync(join(tmpdir(), `bench-${tool}-`));
  // One thread per tool process: the all-cores run starts one process per core instead, as for every
  // other contender, so the tools' own threading neither helps nor hurts them.
  // Not VIPSHOME: sharp sets it in the bench's process to its own libvips, and a system libvips that
  // inherits it finds none of its loadable modules (HEIF among them: "not a known file format").
  const { VIPSHOME: _sharpsLibvips, ...inherited } = process.env;
  const env = { ...inherited, MAGICK_THREAD_LIMIT: "1", OMP_NUM_THREADS: "1", VIPS_CONCURRENCY: "1" };
  const sizes = tool === "heif-convert" ? DEFAULT_OUTPUT.sizes.slice(0, 1) : DEFAULT_OUTPUT.sizes;
  const callsFor = (file: string) =>
    sizes.map((size) => toolArgs(tool, command.slice(1), file, size, DEFAULT_OUTPUT.quality, outDir));
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
