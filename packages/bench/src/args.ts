import { availableParallelism } from "node:os";

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
  help: boolean;
}

export const USAGE = `pnpm bench [-- options]

  --images N        originals of ~1.2 MB at ~8.8 MP in the main set (default 40)
  --big N           originals of ~24 MP for the 24 MP row and the peak-RSS check (default 4)
  --heic N          HEICs made from the main set for the HEIC row, ours beside native libheif
                    (default 4; 0 skips it; needs heif-enc: apt-get install -y libheif-examples)
  --megapixels X    mean megapixels of the main set (default 8.8)
  --rounds N        timed passes per contender, best reported (default 5)
  --cores N         processes in the all-cores run (default: available cores)
  --only a,b        run only these contenders: ours, naive-sharp, vipsthumbnail, pillow-right,
                    pillow-tutorial, pillow-resize-default, imagemagick, graphicsmagick,
                    turbo-hybrid, floor-libvips, floor-libjpeg
  --cache-dir DIR   where the corpus and results go (default <repo>/.cache/bench)
  --json FILE       also write the results here (default <cache-dir>/results.json)
  --help            this text`;

const DEFAULTS: BenchArgs = {
  images: 40,
  bigImages: 4,
  heicImages: 4,
  megapixels: 8.8,
  rounds: 5,
  cores: 0,
  only: [],
  cacheDir: undefined,
  json: undefined,
  help: false,
};

/** Parses `argv` (without node and script). Throws an Error whose message names the fix. */
export function parseArgs(argv: string[], cpus: number = availableParallelism()): BenchArgs {
  const args: BenchArgs = { ...DEFAULTS, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--") continue;
    if (flag === "--help" || flag === "-h") {
      args.help = true;
      continue;
    }
    const [name, inline] = flag.includes("=") ? splitOnce(flag) : [flag, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) {
        throw new Error(`Expected a value after ${name}, received nothing. Run with --help for the options.`);
      }
      return v;
    };
    switch (name) {
      case "--images":
        args.images = int(name, value(), 1, 10_000);
        break;
      case "--big":
        args.bigImages = int(name, value(), 0, 100);
        break;
      case "--heic":
        args.heicImages = int(name, value(), 0, 100);
        break;
      case "--megapixels":
        args.megapixels = num(name, value(), 0.1, 100);
        break;
      case "--rounds":
        args.rounds = int(name, value(), 1, 20);
        break;
      case "--cores":
        // One process is pinned per core, so there cannot be more than the machine has.
        args.cores = int(name, value(), 1, cpus);
        break;
      case "--only":
        args.only = value()
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case "--cache-dir":
        args.cacheDir = value();
        break;
      case "--json":
        args.json = value();
        break;
      default:
        throw new Error(`Unknown option ${JSON.stringify(flag)}. Expected one of the options in --help.`);
    }
  }
  if (args.cores === 0) args.cores = cpus;
  return args;
}

function splitOnce(flag: string): [string, string] {
  const at = flag.indexOf("=");
  return [flag.slice(0, at), flag.slice(at + 1)];
}

function num(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(
      `Expected ${name} to be a number from ${min} to ${max}, received ${JSON.stringify(raw)}.`,
    );
  }
  return n;
}

function int(name: string, raw: string, min: number, max: number): number {
  const n = num(name, raw, min, max);
  if (!Number.isInteger(n)) {
    throw new Error(`Expected ${name} to be a whole number, received ${JSON.stringify(raw)}.`);
  }
  return n;
}
