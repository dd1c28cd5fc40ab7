import { availableParallelism } from "node:os";
import { intOption, numberOption } from "@thumbs/local";
import { Command, Option } from "commander";

export interface BenchArgs {
  /** Photo-like originals of ~1.2 MB in the main set. */
  images: number;
  /** ~24 MP originals, for the 24 MP timing and the peak-RSS check. */
  bigImages: number;
  /** HEICs made from the main set's first originals, for the HEIC row (0: no HEIC row). */
  heicImages: number;
  /** Mean megapixels of the main set. */
  megapixels: number;
  /** Timed passes per contender; the best is reported. Slow contenders stop after one (see cli.ts). */
  rounds: number;
  /** Processes in the "all cores" run, one pinned per core. */
  cores: number;
  /** Only these contenders (ids), or all when empty. */
  only: string[];
  cacheDir: string | undefined;
  json: string | undefined;
}

const list = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const CONTENDERS =
  "ours, naive-sharp, vipsthumbnail, pillow-right, pillow-tutorial, pillow-resize-default, imagemagick, " +
  "graphicsmagick, turbo-hybrid, floor-libvips, floor-libjpeg";

export interface BenchCommandText {
  name: string;
  description: string;
  /** What `--only` selects. */
  only: string;
}

const BENCH: BenchCommandText = {
  name: "pnpm bench",
  description:
    "The worker's resize core against its peers (sharp, libvips, Pillow, ImageMagick) on one generated corpus. " +
    "Progress goes to stderr, the report to stdout and, as JSON, to --json.",
  only: `run only these contenders: ${CONTENDERS}`,
};

/** The options of `pnpm bench` (and of `variants`, which reads the same ones). */
export function benchCommand(text: BenchCommandText = BENCH, cpus: number = availableParallelism()): Command {
  return new Command()
    .name(text.name)
    .usage("[-- options]")
    .description(text.description)
    .option("--images <N>", "originals of ~1.2 MB at ~8.8 MP in the main set", intOption(1, 10_000), 40)
    .option("--big <N>", "originals of ~24 MP for the 24 MP row and the peak-RSS check", intOption(0, 100), 4)
    .option(
      "--heic <N>",
      "HEICs made from the main set for the HEIC row, ours beside native libheif; 0 skips it; " +
        "needs heif-enc (apt-get install -y libheif-examples)",
      intOption(0, 100),
      4,
    )
    .option("--megapixels <X>", "mean megapixels of the main set", numberOption(0.1, 100), 8.8)
    .option("--rounds <N>", "timed passes per contender, best reported", intOption(1, 20), 5)
    .addOption(
      // One process is pinned per core, so there cannot be more than the machine has.
      new Option("--cores <N>", "processes in the all-cores run")
        .argParser(intOption(1, cpus))
        .default(cpus, `available cores, ${cpus}`),
    )
    .addOption(new Option("--only <a,b>", text.only).argParser(list).default([], "all"))
    .option("--cache-dir <DIR>", "where the corpus and results go (default: <repo>/.cache/bench)")
    .option("--json <FILE>", "also write the results here (default: <cache-dir>/results.json)")
    .showHelpAfterError();
}

/**
 * Parses `argv` (without node and script) with `command`. `--help` prints and exits; a bad option
 * prints what was expected and exits 1, unless the command was given `.exitOverride()`.
 */
export function parseArgs(argv: string[], command: Command = benchCommand()): BenchArgs {
  // `pnpm bench -- --flag` passes the `--` through; npm habits should not turn flags into arguments.
  const o = command
    .parse(
      argv.filter((arg) => arg !== "--"),
      { from: "user" },
    )
    .opts();
  return {
    images: o.images,
    bigImages: o.big,
    heicImages: o.heic,
    megapixels: o.megapixels,
    rounds: o.rounds,
    cores: o.cores,
    only: o.only,
    cacheDir: o.cacheDir,
    json: o.json,
  };
}
