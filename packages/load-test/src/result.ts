import type { ErrorRecord, OrderStatus } from "@thumbs/core";
import type { ImageOutcome, SliceReport } from "@thumbs/worker";
import type { Summary } from "./stats.js";

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
  busyMs: number;
  peakRssBytes: number | null;
}

export interface CpuAccount {
  /** Worker processes + the load test's process (fauxqs, coordinator) + Redis, in ms. */
  totalMs: number;
  workersMs: number;
  /** The worker processes' full (mark-compact) GCs meanwhile, and their main-thread pauses. */
  workerFullGcs?: { count: number; pauseMs: number } | undefined;
  parentMs: number;
  redisMs: number | null;
  /** Share of the machine's CPU capacity other processes used meanwhile (0 = otherwise idle). */
  otherLoadShare: number | null;
}

export interface RunResult {
  label: string;
  orderId: string;
  status: OrderStatus;
  total: number;
  done: number;
  failed: number;
  slicesPlanned: number;
  /** Order-completed emitted → completion signal observed. */
  wallMs: number;
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
  cpu?: CpuAccount | undefined;
  consistency: { ok: boolean; notes: string[] };
}

/** Pure resizing of the same originals from memory: no S3, no SNS, no Redis. */
export interface BaselineResult {
  processes: number;
  inFlightPerProcess: number;
  wallMs: number;
  cpuMs: number;
  cpuMsPerImage: number;
  otherLoadShare: number | null;
  perImageMs: Summary;
  images: Array<{ index: number; ms: number; bytes: number }>;
}

export type BaselineBracket = Pick<
  BaselineResult,
  "wallMs" | "cpuMs" | "cpuMsPerImage" | "otherLoadShare"
> & {
  when: "before" | "after";
};

/** Worker CPU per image ÷ pure-resize CPU per image: `ratio` against the brackets' mean, `low`/`high` each alone. */
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
  wallOverBaselineWall: number;
  cpuRatio: number | null;
  workerCpu?: WorkerCpuRatio | undefined;
  /**
   * ratio = fanOut × perImage, and fanOut = withinInvocations × betweenInvocations when the slices'
   * handler times are known (see the README).
   */
  split?:
    | { fanOut: number; perImage: number; withinInvocations?: number; betweenInvocations?: number }
    | undefined;
  warning?: string | undefined;
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
  /** The mean of the bracketing baselines, image by image. */
  baseline?: BaselineResult | undefined;
  baselineBrackets?: BaselineBracket[] | undefined;
  overhead?: OverheadResult | undefined;
  /** AWS only: how the cold run was forced and where the timings came from. */
  notes: string[];
}
