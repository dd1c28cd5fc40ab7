import type { OverheadResult, WorkerCpuRatio } from "./result.js";

/** The goal: fan-out, S3 and Redis together cost at most 15% over pure resizing. */
export const OVERHEAD_GOAL = 1.15;

export const OVERHEAD_DEFINITION =
  "overhead ratio = pipeline wall × L ÷ Σ tᵢ, where L = worker processes × images in flight per process, " +
  "and tᵢ is the time to resize image i (makeThumbnails: the worker's own code and settings, both sizes) " +
  "from its bytes already in memory, measured at the same parallelism (same processes, same images in " +
  "flight each) with no S3, SNS, SQS or Redis. Σ tᵢ ÷ L is then the wall time of pure resizing at the " +
  "pipeline's parallelism, so 1.00 means the fan-out, S3 and Redis cost nothing on top. Each tᵢ is wall " +
  "time: with more images in flight than cores it includes waiting for a core, which is why the sum is " +
  "divided by L rather than by the cores. The CPU ratio beside it divides the CPU the pipeline's " +
  "processes used (workers, the load test's process with fauxqs and the coordinator, Redis) by the CPU " +
  "pure resizing used: it is not stretched by waiting when other processes share the cores (the wall " +
  "ratio cannot tell that from overhead), though heavy sharing still inflates CPU time somewhat.";

/** Above this share of the machine's CPU used by other processes, wall times are not trustworthy. */
export const BUSY_MACHINE_SHARE = 0.1;

/**
 * The pipeline overhead ratio (see OVERHEAD_DEFINITION) from the pipeline's wall time and the
 * baseline's per-image pure resize times.
 */
export function overheadRatio(input: {
  pipelineWallMs: number;
  /** L: worker processes × images in flight per process. */
  lanes: number;
  baselineImageMs: readonly number[];
  baselineWallMs: number;
  goal?: number;
  /** CPU ms of the pipeline's processes during the run and of the baseline, when measured. */
  pipelineCpuMs?: number | undefined;
  baselineCpuMs?: number | undefined;
  /** Other processes' share of the machine's CPU during the run and during the baseline. */
  otherLoad?: Array<number | null | undefined>;
  /** Σ of the pipeline's own per-image times (fetch + sniff + resize + store), when reported. */
  pipelineImageMsSum?: number | undefined;
  /** The worker processes' CPU per image, and each bracketing baseline's pure-resize CPU per image. */
  workerCpu?: { msPerImage: number; baselineMsPerImage: readonly number[] } | undefined;
}): OverheadResult {
  const { pipelineWallMs, lanes, baselineImageMs, baselineWallMs, goal = OVERHEAD_GOAL } = input;
  const pure = baselineImageMs.reduce((sum, ms) => sum + ms, 0);
  if (!(pure > 0) || !(lanes > 0)) {
    throw new RangeError(
      `Expected baseline image times with a positive sum and at least one process; received Σ ${pure} ms over ${lanes} lanes. Run the baseline (omit --no-baseline).`,
    );
  }
  const ratio = (pipelineWallMs * lanes) / pure;
  const cpuRatio =
    input.pipelineCpuMs !== undefined && input.baselineCpuMs
      ? input.pipelineCpuMs / input.baselineCpuMs
      : null;
  const busiest = Math.max(0, ...(input.otherLoad ?? []).map((l) => l ?? 0));
  const inPipeline = input.pipelineImageMsSum;
  // ratio = (wall × L ÷ Σ pipeline per-image times) × (Σ pipeline per-image times ÷ Σ pure resize times):
  // time the lanes spent between images, times what each image costs on top of its resize.
  const split =
    inPipeline !== undefined && inPipeline > 0
      ? { fanOut: (pipelineWallMs * lanes) / inPipeline, perImage: inPipeline / pure }
      : undefined;
  return {
    ratio,
    goal,
    verdict: ratio <= goal ? "PASS" : "MISS",
    wallOverBaselineWall: pipelineWallMs / baselineWallMs,
    cpuRatio,
    ...(input.workerCpu ? { workerCpu: workerCpuRatio(input.workerCpu, goal) } : {}),
    ...(split ? { split } : {}),
    ...(busiest > BUSY_MACHINE_SHARE
      ? {
          warning: `Other processes used up to ${(busiest * 100).toFixed(0)}% of this machine's CPU while it was measured, which stretches wall times unevenly: rerun on an idle machine for a trustworthy wall ratio${cpuRatio === null ? "" : "; the CPU ratio is less affected"}.`,
        }
      : {}),
    definition: OVERHEAD_DEFINITION,
  };
}

export const WORKER_CPU_DEFINITION =
  "worker CPU ratio = the worker processes' CPU per image (user + system, all threads: resizing, the S3 " +
  "and Redis clients, sockets, GC, IPC) ÷ pure resizing's CPU per image (the same originals at the same " +
  "parallelism). It is what Lambda bills per image against what the resize alone needs. Pure resizing is " +
  "measured just before and just after the pipeline: the ratio uses their mean, the range each alone.";

/**
 * Worker CPU per image ÷ pure-resize CPU per image (WORKER_CPU_DEFINITION), against the mean of the
 * bracketing baselines, with the range the brackets give on their own.
 */
export function workerCpuRatio(
  input: { msPerImage: number; baselineMsPerImage: readonly number[] },
  goal = OVERHEAD_GOAL,
): WorkerCpuRatio {
  const brackets = input.baselineMsPerImage.filter((ms) => ms > 0);
  if (brackets.length === 0) {
    throw new RangeError("Expected at least one baseline with a positive CPU time per image.");
  }
  const pure = brackets.reduce((sum, ms) => sum + ms, 0) / brackets.length;
  const each = brackets.map((ms) => input.msPerImage / ms);
  const ratio = input.msPerImage / pure;
  return {
    workerMsPerImage: input.msPerImage,
    pureMsPerImage: pure,
    ratio,
    low: Math.min(...each),
    high: Math.max(...each),
    goal,
    verdict: ratio <= goal ? "PASS" : "MISS",
  };
}
