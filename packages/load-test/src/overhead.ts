import type { OverheadResult, WorkerCpuRatio } from "./result.js";

/** Fan-out, S3 and Redis together cost at most 15% over pure resizing. */
export const OVERHEAD_GOAL = 1.15;
/** Lanes idle inside worker invocations cost at most 3% of the lane time their images take. */
export const FAN_OUT_AIM = 1.03;

// Above this share of the machine's CPU used by other processes, wall times are not trustworthy.
const BUSY_MACHINE_SHARE = 0.1;

const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);

/** The overhead ratio, its fan-out × per-image split and the CPU ratios; the README defines each. */
export function overheadRatio(input: {
  pipelineWallMs: number;
  /** L: worker processes × images in flight per process. */
  lanes: number;
  baselineImageMs: readonly number[];
  baselineWallMs: number;
  pipelineCpuMs?: number | undefined;
  baselineCpuMs?: number | undefined;
  /** Other processes' share of the machine's CPU during the run and during each baseline. */
  otherLoad?: Array<number | null | undefined>;
  /** Σ of the pipeline's own per-image times, when reported. */
  pipelineImageMsSum?: number | undefined;
  /** Σ over worker invocations of their handler time × their images in flight: lane time inside invocations. */
  invocationLaneMs?: number | undefined;
  workerCpu?: { msPerImage: number; baselineMsPerImage: readonly number[] } | undefined;
}): OverheadResult {
  const { pipelineWallMs, lanes, baselineWallMs, pipelineImageMsSum: inPipeline, invocationLaneMs } = input;
  const pure = sum(input.baselineImageMs);
  const ratio = (pipelineWallMs * lanes) / pure;
  const cpuRatio =
    input.pipelineCpuMs !== undefined && input.baselineCpuMs
      ? input.pipelineCpuMs / input.baselineCpuMs
      : null;
  const busiest = Math.max(0, ...(input.otherLoad ?? []).map((l) => l ?? 0));
  return {
    ratio,
    goal: OVERHEAD_GOAL,
    verdict: ratio <= OVERHEAD_GOAL ? "PASS" : "MISS",
    wallOverBaselineWall: pipelineWallMs / baselineWallMs,
    cpuRatio,
    ...(input.workerCpu ? { workerCpu: workerCpuRatio(input.workerCpu) } : {}),
    ...(inPipeline
      ? {
          split: {
            fanOut: (pipelineWallMs * lanes) / inPipeline,
            perImage: inPipeline / pure,
            ...(invocationLaneMs ? fanOutSplit(pipelineWallMs * lanes, invocationLaneMs, inPipeline) : {}),
          },
        }
      : {}),
    ...(busiest > BUSY_MACHINE_SHARE
      ? {
          warning: `Other processes used up to ${(busiest * 100).toFixed(0)}% of this machine's CPU while it was measured, which stretches wall times unevenly: rerun on an idle machine for a trustworthy wall ratio${cpuRatio === null ? "" : "; the CPU ratio is less affected"}.`,
        }
      : {}),
  };
}

/**
 * fan-out = within invocations × between invocations. Within: lanes idle while a worker invocation runs
 * (its start and end, and the last images of its slice running while other lanes have none left): what
 * Lambda bills and the worker controls. Between: lanes idle outside invocations (planning, the first
 * delivery, the runtime's receive between slices, and the last slices of the order running on some
 * processes while others have none left), which on AWS is SNS fanning slices out to many instances.
 */
function fanOutSplit(laneMs: number, invocationLaneMs: number, imageMsSum: number) {
  return { withinInvocations: invocationLaneMs / imageMsSum, betweenInvocations: laneMs / invocationLaneMs };
}

/** Worker CPU per image ÷ the mean of the bracketing baselines' pure-resize CPU per image, and each alone. */
export function workerCpuRatio(input: {
  msPerImage: number;
  baselineMsPerImage: readonly number[];
}): WorkerCpuRatio {
  const brackets = input.baselineMsPerImage;
  const pure = sum(brackets) / brackets.length;
  const each = brackets.map((ms) => input.msPerImage / ms);
  const ratio = input.msPerImage / pure;
  return {
    workerMsPerImage: input.msPerImage,
    pureMsPerImage: pure,
    ratio,
    low: Math.min(...each),
    high: Math.max(...each),
    goal: OVERHEAD_GOAL,
    verdict: ratio <= OVERHEAD_GOAL ? "PASS" : "MISS",
  };
}
