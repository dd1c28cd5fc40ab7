/**
 * `pnpm bench`: the worker's resize core against its peers on one generated corpus, in one run.
 * Progress goes to stderr; the report to stdout, and as JSON to <cache-dir>/results.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { cpuShare, imageConcurrency } from "@thumbs/worker";
import sharp from "sharp";
import { type BenchArgs, parseArgs } from "./args.js";
import { type ContenderId, contenders, NOTES, tool } from "./contenders.js";
import {
  bigSet as big,
  type Corpus,
  corpusFiles,
  defaultCacheDir,
  describeCorpus,
  ensureCorpus,
  mainSet,
} from "./corpus.js";
import { type ParallelRun, runParallel } from "./harness.js";
import {
  ensureHeicCorpus,
  formatHeic,
  HEIC_INSTALL_HINT,
  type HeicRow,
  heicContenders,
  heifToolsInstalled,
  measureHeic,
} from "./heic.js";
import { detectPeers, INSTALL_HINTS } from "./peers.js";
import {
  type ContenderResult,
  evaluateTargets,
  formatTable,
  formatTargets,
  throughput,
  verdict,
  whatIfLine,
} from "./table.js";

/** A contender whose first round takes longer than this runs only once: it is far from ours anyway. */
const SLOW_ROUND_MS = 20_000;

const log = (line: string) => process.stderr.write(`${line}\n`);

async function writeList(dir: string, name: string, corpus: Corpus): Promise<string> {
  const path = join(dir, `${name}.txt`);
  await writeFile(path, `${corpusFiles(corpus).join("\n")}\n`);
  return path;
}

interface Rounds {
  one: ParallelRun[];
  all: ParallelRun[];
  failed?: string;
}

async function measure(args: BenchArgs, list: string, pin: boolean): Promise<Map<ContenderId, Rounds>> {
  const peers = detectPeers();
  const selected = contenders(peers).filter((c) => args.only.length === 0 || args.only.includes(c.id));
  // Unpinned, a second image in flight would spread one process over every core; one keeps it near one.
  const inFlight = pin ? imageConcurrency(1) : 1;
  const rounds = new Map<ContenderId, Rounds>(selected.map((c) => [c.id, { one: [], all: [] }]));
  for (let round = 1; round <= args.rounds; round++) {
    for (const c of selected) {
      const r = rounds.get(c.id)!;
      if (!c.spec || r.failed || (round > 1 && r.one.length < round - 1)) continue;
      if (round > 1 && r.one[0]!.wallMs + r.all[0]!.wallMs > SLOW_ROUND_MS) continue;
      log(`  round ${round}/${args.rounds}: ${c.label}`);
      try {
        r.one.push(await runParallel(c.spec(list, inFlight), 1, pin));
        r.all.push(await runParallel(c.spec(list, inFlight), args.cores, pin));
      } catch (error) {
        r.failed = error instanceof Error ? error.message.split("\n")[0] : String(error);
        log(`  ${c.label} failed: ${r.failed}`);
      }
    }
  }
  return rounds;
}

function summarise(args: BenchArgs, rounds: Map<ContenderId, Rounds>): ContenderResult[] {
  const peers = detectPeers();
  return contenders(peers)
    .filter((c) => rounds.has(c.id))
    .map((c) => {
      const r = rounds.get(c.id)!;
      const base = { id: c.id, label: c.label, floor: c.floor };
      if (!c.spec) return { ...base, skipped: `not installed: ${c.skipReason}` };
      if (r.failed && r.one.length === 0) return { ...base, skipped: `failed: ${r.failed}` };
      // Best of the rounds: on a shared machine, load from elsewhere only ever adds time.
      const of = (runs: ParallelRun[]) => {
        const best = runs.reduce((a, b) => (b.wallMs / b.images < a.wallMs / a.images ? b : a));
        return throughput(best.images, best.wallMs);
      };
      return { ...base, oneCore: of(r.one), allCores: r.all.length ? of(r.all) : undefined };
    })
    .filter((r) => args.only.length === 0 || args.only.includes(r.id));
}

/** Runs an extra measurement; a failure is logged and leaves that line out rather than the whole report. */
async function attempt<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    log(`  ${what} failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cacheDir = resolve(args.cacheDir ?? defaultCacheDir());
  const listsDir = join(cacheDir, "lists");
  await mkdir(listsDir, { recursive: true });
  const peers = detectPeers();
  const ids = contenders(peers).map((c) => c.id as string);
  const unknown = args.only.filter((id) => !ids.includes(id));
  if (unknown.length) {
    throw new Error(
      `Unknown contender ${unknown.join(", ")} in --only. Expected some of: ${ids.join(", ")}.`,
    );
  }
  const pin = peers.taskset;
  const started = new Date();
  const loadBefore = loadavg();

  log(`corpus in ${cacheDir} (generated once, then reused)`);
  const progress = (name: string) => (done: number, total: number) =>
    done === total || done % 10 === 0 ? log(`  ${name}: generated ${done}/${total}`) : undefined;
  const mainCorpus = await ensureCorpus(cacheDir, mainSet(args.images, args.megapixels), progress("main"));
  const bigCorpus = args.bigImages
    ? await ensureCorpus(cacheDir, big(args.bigImages), progress("24 MP"))
    : undefined;
  const mainList = await writeList(listsDir, "main", mainCorpus);

  log("measuring the main set");
  const rounds = await measure(args, mainList, pin);
  const results = summarise(args, rounds);

  // The worker as deployed on a Lambda with `cores` vCPUs: one process, imageConcurrency(cores) in flight.
  const wholeWorker =
    rounds.has("ours") && !rounds.get("ours")!.failed
      ? await attempt("ours as one process", () =>
          runParallel(
            contenders(peers).find((c) => c.id === "ours")!.spec!(mainList, imageConcurrency(args.cores)),
            1,
            false,
          ),
        )
      : undefined;

  // Peak RSS where memory is tightest: 24 MP originals on a 1,769 MB (one vCPU) Lambda.
  const rssConcurrency = imageConcurrency(cpuShare({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1769" }));
  let bigRuns: Array<{ label: string; run: ParallelRun }> = [];
  if (bigCorpus && rounds.has("ours")) {
    log("measuring the 24 MP set");
    const bigList = await writeList(listsDir, "big", bigCorpus);
    for (const id of ["ours", "naive-sharp"] as const) {
      const c = contenders(peers).find((x) => x.id === id)!;
      const spec = c.spec!(bigList, rssConcurrency);
      const run = await attempt(`${c.label} on 24 MP`, () =>
        runParallel({ ...spec, args: [...spec.args, "--lazy"] }, 1, pin),
      );
      if (run) bigRuns = [...bigRuns, { label: c.label, run }];
    }
  }
  let heicLines: string[] = [];
  let heicRows: HeicRow[] = [];
  if (args.heicImages > 0 && !heifToolsInstalled()) {
    heicLines = [`HEIC set: skipped, heif-enc/heif-convert not installed (${HEIC_INSTALL_HINT})`];
  } else if (args.heicImages > 0) {
    log(`HEIC set: ${args.heicImages} HEICs from the main set (made once, then reused)`);
    const heic = await ensureHeicCorpus(
      cacheDir,
      mainCorpus,
      Math.min(args.heicImages, mainCorpus.entries.length),
    );
    const heicList = join(listsDir, "heic.txt");
    await writeFile(heicList, `${heic.files.join("\n")}\n`);
    const byId = (id: ContenderId) => contenders(peers).find((c) => c.id === id)!.spec!;
    const cli = (name: string, command: string[]) => tool(name, command)!;
    heicRows = await measureHeic(
      heicList,
      heicContenders(byId("ours"), cli, peers.vipsthumbnail !== undefined),
      pin ? imageConcurrency(1) : 1,
      pin,
      log,
    );
    heicLines = formatHeic(heic, heicRows);
  }
  const oursBig = bigRuns.find((b) => b.label === contenders(peers)[0]!.label)?.run;
  const peakRssMb = oursBig ? (oursBig.maxRssKb * 1024) / 1e6 : undefined;
  const targets = evaluateTargets({ results, peakRssMb, rssConcurrency });

  const out: string[] = [];
  const load = (avg: number[]) => avg.map((n) => n.toFixed(1)).join(" ");
  out.push(
    `thumbs bench, ${started.toISOString()}; load average before ${load(loadBefore)}, after ${load(loadavg())} (anything else running skews every number)`,
    `machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    `peers: ${Object.values(peers.versions).join("; ") || "none installed"}`,
    `main set: ${describeCorpus(mainCorpus)}; sizes 1024 + 256 px, JPEG q80`,
    `1 core = one process pinned to one core${pin ? " (taskset)" : ` (NOT pinned: taskset missing, ${INSTALL_HINTS.taskset})`}; ${args.cores} cores = ${args.cores} such processes at once. Node contenders keep ${pin ? `${imageConcurrency(1)} images in flight per process, as a 1-vCPU worker does` : "1 image in flight per process"}. Best of ${args.rounds} rounds, interleaved (a contender slower than ${SLOW_ROUND_MS / 1000} s per round: 1 round).`,
    "",
    ...formatTable(results, args.cores),
    "",
    ...results.filter((r) => !r.skipped).map((r) => `  ${r.label}: ${NOTES[r.id as ContenderId]}`),
    "",
  );
  const floors = results.filter((r) => r.floor && r.oneCore);
  if (floors.length) {
    out.push(
      `decode floor (shrink-on-load decode alone, 1 core): ${floors.map((f) => `${f.oneCore!.msPerImage.toFixed(1)} ms/img ${f.label.replace("decode floor: ", "")}`).join("; ")}`,
    );
  }
  const whatIf = whatIfLine(results);
  if (whatIf) out.push(whatIf);
  if (wholeWorker) {
    const t = throughput(wholeWorker.images, wholeWorker.wallMs);
    out.push(
      `ours as one worker process on ${args.cores} cores (imageConcurrency = ${imageConcurrency(args.cores)} in flight): ${t.imagesPerSecond.toFixed(1)} img/s, ${t.msPerImage.toFixed(1)} ms/img`,
    );
  }
  if (bigCorpus) {
    out.push(`24 MP set: ${describeCorpus(bigCorpus)}; one process on one core, ${rssConcurrency} in flight`);
    for (const { label, run } of bigRuns) {
      out.push(
        `  ${label}: ${(run.wallMs / run.images).toFixed(0)} ms/img, peak RSS ${((run.maxRssKb * 1024) / 1e6).toFixed(0)} MB`,
      );
    }
  }
  if (heicLines.length) out.push("", ...heicLines);
  out.push("", ...formatTargets(targets));
  const jsonPath = resolve(args.json ?? join(cacheDir, "results.json"));
  out.push("", `results: ${jsonPath}`);
  console.log(out.join("\n"));

  await mkdir(dirname(jsonPath), { recursive: true });
  const json = {
    startedAt: started.toISOString(),
    args,
    machine: {
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      node: process.version,
      sharp: sharp.versions,
    },
    peers: peers.versions,
    pinned: pin,
    loadAverage: { before: loadBefore, after: loadavg() },
    corpus: { main: mainCorpus.spec, big: bigCorpus?.spec },
    results,
    rounds: Object.fromEntries(rounds),
    wholeWorker,
    big: bigRuns,
    heic: heicRows,
    targets: targets.map((t) => ({ ...t, result: verdict(t) })),
  };
  await writeFile(jsonPath, JSON.stringify(json, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
