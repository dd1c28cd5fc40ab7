import type { ErrorRecord, OrderStatus } from "@thumbs/core";
import type { ImageOutcome, SliceReport } from "@thumbs/worker";
import type { Summary } from "./stats.js";

/**
 * One image as the workers reported it (the final outcome when a slice was delivered twice), on the
 * lane and in the slice that gave that outcome.
 */
export type ImageRecord = Pick<ImageOutcome, "index" | "key" | "status" | "failureClass" | "ms"> & {
  lane: string;
  sliceIndex: number;
};

/** One delivery of one slice to one worker, placed on the run's clock (0 = order-completed). */
export type SliceRecord = Pick<
  SliceReport,
  "sliceIndex" | "ms" | "done" | "failed" | "skipped" | "deferred" | "handedBack"
> & { lane: string; startMs: number; endMs: number };

/** A worker process (local) or a Lambda execution environment, i.e. one log stream (AWS). */
export interface LaneRecord {
  lane: string;
  slices: number;
  images: number;
  /** Σ of its slice deliveries' durations: the time it was handling a slice. */
  busyMs: number;
  peakRssBytes: number | null;
}

/** CPU the pipeline's own processes used during a run, and how busy the rest of the machine was. */
export interface CpuAccount {
  /** Worker processes + the load test's process (fauxqs, coordinator) + Redis, in ms. */
  totalMs: number;
  workersMs: number;
  parentMs: number;
  redisMs: number | null;
  /** Share of the machine's CPU capacity other processes used meanwhile (0 = otherwise idle). */
  otherLoadShare: number | null;
}

export interface RunResult {
  /** "local", or "cold" / "warm" on AWS. */
  label: string;
  orderId: string;
  status: OrderStatus;
  total: number;
  done: number;
  failed: number;
  slicesPlanned: number;
  /** Order-completed emitted → completion signal observed. */
  wallMs: number;
  /** Which signal ended the wall-time measurement. */
  wallSource: string;
  throughput: { imagesPerSecond: number; megabytesPerSecond: number };
  perImageMs: Summary;
  perSliceMs: Summary;
  lanes: LaneRecord[];
  sliceFailures: Array<{ lane: string; error: string; startMs: number; endMs: number }>;
  errorsByClass: Record<string, number>;
  errorSamples: Array<Pick<ErrorRecord, "key" | "class" | "message">>;
  images: ImageRecord[];
  /** AWS: per-image times from the workers' ImageMs metric (no per-image outcomes are logged there). */
  imageMsSamples?: number[] | undefined;
  slices: SliceRecord[];
  /** Local runs: the CPU the pipeline used (see CpuAccount). */
  cpu?: CpuAccount | undefined;
  /** The counts add up: done + failed == total == images reported. */
  consistency: { ok: boolean; notes: string[] };
}

/** Pure resizing of the same originals from memory: no S3, no SNS, no Redis. */
export interface BaselineResult {
  processes: number;
  /** Images in flight per process: the same as the pipeline's workers. */
  inFlightPerProcess: number;
  wallMs: number;
  /** CPU time (user + system) of the baseline processes. */
  cpuMs: number;
  cpuMsPerImage: number;
  /** Share of the machine's CPU capacity other processes used meanwhile (null when the machine's CPU times could not be read). */
  otherLoadShare: number | null;
  perImageMs: Summary;
  images: Array<{ index: number; ms: number; bytes: number }>;
}

/** One pure-resize baseline of a bracket: run just before, or just after, the pipeline. */
export type BaselineBracket = Pick<
  BaselineResult,
  "wallMs" | "cpuMs" | "cpuMsPerImage" | "otherLoadShare"
> & {
  when: "before" | "after";
};

/**
 * Worker-process CPU per image ÷ pure-resize CPU per image: what Lambda bills per image, against what
 * resizing alone costs. `ratio` uses the mean of the bracketing baselines; `low`/`high` use each of
 * them alone, so their spread shows how much the machine drifted during the run.
 */
export interface WorkerCpuRatio {
  workerMsPerImage: number;
  pureMsPerImage: number;
  ratio: number;
  low: number;
  high: number;
  goal: number;
  verdict: "PASS" | "MISS";
}

export interface OverheadResult {
  ratio: number;
  goal: number;
  verdict: "PASS" | "MISS";
  /** Cross-check: pipeline wall ÷ the baseline's own wall time. */
  wallOverBaselineWall: number;
  /**
   * CPU the pipeline's processes used ÷ CPU pure resizing used, for the same images: unlike the wall
   * ratio, not stretched when other processes share the cores. Null when not measured.
   */
  cpuRatio: number | null;
  /** The workers' own CPU per image against pure resizing's (see WorkerCpuRatio), when measured. */
  workerCpu?: WorkerCpuRatio | undefined;
  /**
   * The ratio as a product: `fanOut` = wall × L ÷ Σ the pipeline's own per-image times (lanes idle
   * between images: delivery, planning, slice start and end), `perImage` = Σ those times ÷ Σ pure
   * resize times (each image's download, upload, Redis and waiting on top of its resize).
   */
  split?: { fanOut: number; perImage: number } | undefined;
  /** Set when other processes used enough of the machine to distort the wall-time ratio. */
  warning?: string | undefined;
  definition: string;
}

export interface LoadTestResult {
  version: 1;
  target: "local" | "aws";
  startedAt: string;
  machine: { cpus: number; cpuModel: string; totalMemoryBytes: number; node: string; platform: string };
  config: {
    images: number;
    seed: string;
    megapixels: number;
    sizeMb: number;
    detail: number;
    workers: number | null;
    concurrencyPerWorker: number | null;
    sliceSize: number;
    workerMemoryMb?: number | undefined;
    stackName?: string | undefined;
  };
  corpus: { dir: string; images: number; totalBytes: number; meanBytes: number; detailSource: string };
  runs: RunResult[];
  /**
   * The pure-resize yardstick: the mean of the baselines run before and after the pipeline, image by
   * image (see `baselineBrackets`), or the one baseline of an older result.
   */
  baseline?: BaselineResult | undefined;
  /** Each bracketing baseline alone, in the order run. */
  baselineBrackets?: BaselineBracket[] | undefined;
  overhead?: OverheadResult | undefined;
  /** AWS only: how the cold run was forced and where the timings came from. */
  notes: string[];
}
