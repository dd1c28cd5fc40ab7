import { randomUUID } from "node:crypto";
import { analyzeRun } from "./analyze.js";
import { bracketOf, mergeBaselines, runBaseline } from "./baseline.js";
import { type Corpus, type CorpusOptions, loadTestCorpus } from "./corpus.js";
import { bytes } from "./format.js";
import { type LocalOrderOptions, runLocalOrder } from "./local-order.js";
import { compactTimestamp, type LoadTestOutcome, resultHeader, writeResult } from "./output.js";
import { overheadRatio } from "./overhead.js";
import type { Progress } from "./progress.js";
import type { BaselineResult, LoadTestResult, RunResult } from "./result.js";

export interface LocalLoadTestOptions extends CorpusOptions, Omit<LocalOrderOptions, "orderId"> {
  outDir: string;
  /** Time pure resizing of the same originals before and after the pipeline (the ratios need it). */
  baseline: boolean;
  orderId?: string | undefined;
}

/**
 * The `local` load test: generates (or reuses) the order, runs it through the local pipeline between
 * two timings of pure resizing of the same originals, and writes the JSON and HTML reports.
 */
export async function runLocalLoadTest(
  options: LocalLoadTestOptions,
  progress: Progress,
): Promise<LoadTestOutcome> {
  const startedAt = new Date();
  const orderId = options.orderId ?? `lt-${compactTimestamp(startedAt)}-${randomUUID().slice(0, 6)}`;
  progress.status(
    `Preparing ${options.images} photo-like JPEGs (~${options.megapixels} MP, ${options.detail === undefined ? `mean ~${options.sizeMb} MB` : `detail ${options.detail}`}; cached in ${options.cacheDir}; generated once, which takes a few minutes for 1,000)…`,
  );
  const corpus = await loadTestCorpus(options, progress.status);
  progress.status(
    `Corpus: ${corpus.files.length} images, ${bytes(corpus.totalBytes)} in ${corpus.dir} (detail ${corpus.detail}, ${corpus.detailSource})`,
  );

  // Pure resizing just before and just after the pipeline, each with the machine to itself: on a
  // shared machine the CPU a resize takes drifts, and the spread of the two shows by how much.
  const before = options.baseline ? await measureBaseline("before", corpus, options, progress) : undefined;
  const run = analyzeRun(await runLocalOrder(corpus, { ...options, orderId }, progress));
  const after = before ? await measureBaseline("after", corpus, options, progress) : undefined;

  const { workers, concurrencyPerWorker, sliceSize } = options;
  const result: LoadTestResult = {
    ...resultHeader("local", startedAt, options, corpus, { workers, concurrencyPerWorker, sliceSize }),
    runs: [run],
    ...(before && after ? overheadAgainst(run, before, after, workers * concurrencyPerWorker) : {}),
    notes: [
      "Peak RSS is the largest resident set size a worker process reported at the end of a slice.",
      "Locally fauxqs (S3/SNS/SQS) runs in the load test's own process and Redis beside it, on the same cores as the workers: their CPU is part of the measured overhead.",
    ],
  };
  return writeResult(options.outDir, result);
}

async function measureBaseline(
  when: "before" | "after",
  corpus: Corpus,
  options: LocalLoadTestOptions,
  progress: Progress,
): Promise<BaselineResult> {
  progress.status(
    `Pure resizing of the same originals (${when} the pipeline): ${options.workers} processes × ${options.concurrencyPerWorker} images in flight…`,
  );
  progress.start(`Baseline (${when})`, corpus.files.length);
  const baseline = await runBaseline(corpus.files, options.workers, options.concurrencyPerWorker, (n) =>
    progress.update(n),
  );
  progress.stop();
  return baseline;
}

/** The run against the mean of its bracketing baselines: overhead ratio, its split and the CPU ratios. */
function overheadAgainst(
  run: RunResult,
  before: BaselineResult,
  after: BaselineResult,
  lanes: number,
): Pick<LoadTestResult, "baseline" | "baselineBrackets" | "overhead"> {
  const baseline = mergeBaselines([before, after]);
  const worked = run.done + run.failed;
  return {
    baseline,
    baselineBrackets: [bracketOf("before", before), bracketOf("after", after)],
    overhead: overheadRatio({
      pipelineWallMs: run.wallMs,
      lanes,
      baselineImageMs: baseline.images.map((i) => i.ms),
      baselineWallMs: baseline.wallMs,
      pipelineCpuMs: run.cpu?.totalMs,
      baselineCpuMs: baseline.cpuMs,
      otherLoad: [run.cpu?.otherLoadShare, before.otherLoadShare, after.otherLoadShare],
      pipelineImageMsSum: run.perImageMs.count > 0 ? run.perImageMs.sum : undefined,
      workerCpu:
        run.cpu && worked > 0
          ? {
              msPerImage: run.cpu.workersMs / worked,
              baselineMsPerImage: [before.cpuMsPerImage, after.cpuMsPerImage],
            }
          : undefined,
    }),
  };
}
