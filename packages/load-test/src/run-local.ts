import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { analyzeRun } from "./analyze.js";
import { bracketOf, mergeBaselines, runBaseline } from "./baseline.js";
import { loadTestCorpus } from "./corpus.js";
import { bytes } from "./format.js";
import { runLocalOrder } from "./local-run.js";
import { compactTimestamp, machineInfo, writeReports } from "./output.js";
import { overheadRatio } from "./overhead.js";
import type { Progress } from "./progress.js";
import { renderTextReport } from "./report-text.js";
import type { LoadTestResult } from "./result.js";

export interface LocalLoadTestOptions {
  images: number;
  seed: string;
  megapixels: number;
  sizeMb: number;
  detail?: number | undefined;
  workers: number;
  concurrencyPerWorker: number;
  sliceSize: number;
  cacheDir: string;
  outDir: string;
  baseline: boolean;
  timeoutMs: number;
  orderId?: string | undefined;
  /** Write a V8 CPU profile of each worker process into this folder (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  /** Throttle the workers' S3 object requests as a hot prefix does (fault proxy, 503 SlowDown). */
  s3RateLimit?: { perSecond: number; burst: number } | undefined;
  /** The workers' AWS SDK retry mode (AWS_RETRY_MODE). */
  retryMode?: "standard" | "adaptive" | undefined;
}

/**
 * `pnpm load-test`: generates (or reuses) the order, runs it through the local pipeline, measures
 * pure resizing of the same originals, and writes the JSON and HTML reports.
 */
export async function runLocalLoadTest(
  options: LocalLoadTestOptions,
  progress: Progress,
): Promise<{ result: LoadTestResult; files: { json: string; html: string }; lines: string[] }> {
  const startedAt = new Date();
  const orderId = options.orderId ?? `lt-${compactTimestamp(startedAt)}-${randomUUID().slice(0, 6)}`;
  progress.status(
    `Preparing ${options.images} photo-like JPEGs (~${options.megapixels} MP, ${options.detail === undefined ? `mean ~${options.sizeMb} MB` : `detail ${options.detail}`}; cached in ${options.cacheDir}; generated once, which takes a few minutes for 1,000)…`,
  );
  const corpus = await loadTestCorpus({ ...options }, progress.status);
  progress.status(
    `Corpus: ${corpus.files.length} images, ${bytes(corpus.totalBytes)} in ${corpus.dir} (detail ${corpus.detail}, ${corpus.detailSource})`,
  );

  // Pure resizing just before and just after the pipeline, each with the machine to itself: on a
  // shared machine the CPU a resize takes drifts, and the spread of the two shows by how much.
  const measureBaseline = async (when: "before" | "after") => {
    progress.status(
      `Pure resizing of the same originals (${when} the pipeline): ${options.workers} processes × ${options.concurrencyPerWorker} images in flight…`,
    );
    progress.start(`Baseline (${when})`, corpus.files.length);
    const b = await runBaseline(corpus.files, options.workers, options.concurrencyPerWorker, (n) =>
      progress.update(n),
    );
    progress.stop();
    return b;
  };
  const before = options.baseline ? await measureBaseline("before") : undefined;
  const observation = await runLocalOrder(corpus, { ...options, orderId }, progress);
  const run = analyzeRun(observation);
  const after = before ? await measureBaseline("after") : undefined;

  let baseline: LoadTestResult["baseline"];
  let baselineBrackets: LoadTestResult["baselineBrackets"];
  let overhead: LoadTestResult["overhead"];
  if (before && after) {
    baseline = mergeBaselines([before, after]);
    baselineBrackets = [bracketOf("before", before), bracketOf("after", after)];
    const worked = run.done + run.failed;
    overhead = overheadRatio({
      pipelineWallMs: run.wallMs,
      lanes: options.workers * options.concurrencyPerWorker,
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
    });
  }

  const result: LoadTestResult = {
    version: 1,
    target: "local",
    startedAt: startedAt.toISOString(),
    machine: machineInfo(),
    config: {
      images: options.images,
      seed: options.seed,
      megapixels: options.megapixels,
      sizeMb: options.sizeMb,
      detail: corpus.detail,
      workers: options.workers,
      concurrencyPerWorker: options.concurrencyPerWorker,
      sliceSize: options.sliceSize,
    },
    corpus: {
      dir: resolve(corpus.dir),
      images: corpus.files.length,
      totalBytes: corpus.totalBytes,
      meanBytes: corpus.totalBytes / Math.max(1, corpus.files.length),
      detailSource: corpus.detailSource,
    },
    runs: [run],
    baseline,
    baselineBrackets,
    overhead,
    notes: [
      "Peak RSS is the largest resident set size a worker process reported at the end of a slice.",
      "Locally fauxqs (S3/SNS/SQS) runs in the load test's own process and Redis beside it, on the same cores as the workers: their CPU is part of the measured overhead.",
    ],
  };
  const files = await writeReports(options.outDir, result);
  return { result, files, lines: renderTextReport(result) };
}
