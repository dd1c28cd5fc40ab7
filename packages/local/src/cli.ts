#!/usr/bin/env node
import { join } from "node:path";
import { DEFAULT_SLICE_SIZE } from "@thumbs/core";
import { Command, Option } from "commander";
import { intOption, numberOption } from "./cli-options.js";
import { runDemo } from "./demo.js";

// Node 20 is supported locally (Lambda runs nodejs22.x): the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const program = new Command()
  .name("thumbs-demo")
  .description(
    "Runs one order through the whole pipeline locally: uploads the images to an S3 emulator (fauxqs),\n" +
      "emits order-completed, plans slices with the coordinator, resizes them in worker processes,\n" +
      "downloads the thumbnails and lists every failed image. Exit code 0 = every image succeeded,\n" +
      "1 = some images failed or could not be uploaded (listed), 2 = the pipeline could not run.",
  )
  .option("-i, --input <dir>", "folder of images to upload as the order (default: generated photos)")
  .option(
    "-n, --images <count>",
    "how many photos to generate when no --input is given (default: 24 camera-style, 200 uniform)",
    intOption(1, 100_000),
  )
  .addOption(
    new Option(
      "--corpus <kind>",
      "what to generate: camera-style photos (8-24 MP JPEG, PNG, WebP, camera names) or uniform JPEGs",
    )
      .choices(["camera", "uniform"])
      .default("camera"),
  )
  .addOption(
    new Option(
      "--megapixels <mp>",
      "average size of uniform photos, in megapixels (implies --corpus uniform)",
    )
      .argParser(numberOption(0.01, 100))
      .implies({ corpus: "uniform" }),
  )
  .option(
    "--broken",
    "add broken files (truncated, zero bytes, text named .jpg; with --listing keys also a missing key)",
    false,
  )
  .addOption(
    new Option("--listing <mode>", "how the order names its images: a key prefix, or an explicit key list")
      .choices(["prefix", "keys"])
      .default("prefix"),
  )
  .option("-w, --workers <count>", "worker processes (default: one per core)", intOption(1, 64))
  .option("--slice-size <count>", `images per slice (default ${DEFAULT_SLICE_SIZE})`, intOption(1, 10_000))
  .option("-o, --output <dir>", "folder the thumbnails are downloaded into", "out")
  .option("--cache-dir <dir>", "where generated photos are cached", join(".cache", "samples"))
  .option("--order-id <id>", "order id (default: demo-<timestamp>-<random>)")
  .option("--no-progress", "no progress bar (for logs and CI)")
  .option("--serve", "after the order, keep the admin dashboard and API running (Ctrl-C stops)", false)
  .option("--port <port>", "port for --serve (default: a free one)", intOption(1, 65_535))
  .showHelpAfterError();

async function main(): Promise<number> {
  // `pnpm demo -- --flag` passes the `--` through; npm habits should not turn flags into arguments.
  const argv =
    process.argv[2] === "--" ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv;
  const o = program.parse(argv).opts();
  const result = await runDemo({
    input: o.input,
    images: o.images ?? (o.corpus === "camera" ? 24 : 200),
    corpus: o.corpus,
    megapixels: o.megapixels ?? 2,
    broken: o.broken,
    listing: o.listing,
    workers: o.workers,
    sliceSize: o.sliceSize,
    output: o.output,
    cacheDir: o.cacheDir,
    orderId: o.orderId,
    progress: o.progress && process.stdout.isTTY === true,
    serve: o.serve,
    port: o.port,
  });
  return result.progress.failed === 0 && result.uploadFailures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(2);
  },
);
