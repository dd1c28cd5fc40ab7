import type { ErrorRecord, OrderProgress } from "@thumbs/core";
import type { ImageOutcome, SliceReport } from "@thumbs/worker";
import type { CpuAccount, ImageRecord, LaneRecord, RunResult, SliceRecord } from "./result.js";
import { countBy, summarize } from "./stats.js";

/** One slice delivery as observed: a local worker's SliceReport over IPC, or a Lambda log line. */
export type ObservedSlice = Pick<
  SliceReport,
  "sliceIndex" | "ms" | "done" | "failed" | "skipped" | "deferred" | "handedBack"
> & {
  lane: string;
  startEpochMs: number;
  endEpochMs: number;
  /** Empty on AWS, where only slice totals are logged. */
  images: ImageOutcome[];
};

export interface RunObservation {
  label: string;
  orderId: string;
  progress: Pick<OrderProgress, "total" | "done" | "failed" | "status" | "slices">;
  wallMs: number;
  wallSource: string;
  /** Epoch ms at which order-completed was emitted: 0 on the run's clock. */
  originEpochMs: number;
  totalBytes: number;
  slices: ObservedSlice[];
  sliceFailures: Array<{ lane: string; error: string; startEpochMs: number; endEpochMs: number }>;
  /** Peak RSS per lane when known (local worker processes report it). */
  peakRss: Map<string, number>;
  errors: Array<Pick<ErrorRecord, "key" | "class" | "message">>;
  /** Per-image times from metrics when no per-image outcomes exist (AWS EMF ImageMs values). */
  imageMsFromMetrics?: number[] | undefined;
  cpu?: CpuAccount | undefined;
}

// A later delivery of a slice may skip what an earlier one did, or succeed where it failed; a follow-up
// slice finishes what one deferred (Transient, retried) or handed back (out of time).
const RANK: Record<ImageRecord["status"], number> = {
  skipped: 0,
  "handed-back": 0,
  deferred: 1,
  failed: 2,
  done: 3,
};

/** Images a worker actually worked on: the others report 0 ms. */
export const worked = (status: ImageRecord["status"]) => status !== "skipped" && status !== "handed-back";

/** Final outcome per image index: done > failed > deferred > skipped or handed back; among equals the later wins. */
export function finalOutcomes(slices: readonly ObservedSlice[]): ImageRecord[] {
  const byIndex = new Map<number, ImageRecord>();
  const ordered = [...slices].sort((a, b) => a.endEpochMs - b.endEpochMs);
  for (const slice of ordered) {
    for (const image of slice.images) {
      const previous = byIndex.get(image.index);
      if (previous && RANK[previous.status] > RANK[image.status]) continue;
      byIndex.set(image.index, {
        index: image.index,
        key: image.key,
        status: image.status,
        ...(image.failureClass ? { failureClass: image.failureClass } : {}),
        ms: image.ms,
        lane: slice.lane,
        sliceIndex: slice.sliceIndex,
      });
    }
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** Turns what was observed during one run into the figures the report shows. */
export function analyzeRun(o: RunObservation): RunResult {
  const images = finalOutcomes(o.slices);
  const workedMs = images.filter((i) => worked(i.status)).map((i) => i.ms);
  const slices: SliceRecord[] = o.slices
    .map(({ images: _, startEpochMs, endEpochMs, ...s }) => ({
      ...s,
      startMs: startEpochMs - o.originEpochMs,
      endMs: endEpochMs - o.originEpochMs,
    }))
    .sort((a, b) => a.startMs - b.startMs);
  const seconds = o.wallMs / 1000;
  return {
    label: o.label,
    orderId: o.orderId,
    status: o.progress.status,
    total: o.progress.total,
    done: o.progress.done,
    failed: o.progress.failed,
    slicesPlanned: o.progress.slices,
    wallMs: o.wallMs,
    wallSource: o.wallSource,
    throughput: {
      imagesPerSecond: o.progress.total / seconds,
      megabytesPerSecond: o.totalBytes / 1e6 / seconds,
    },
    perImageMs: summarize(workedMs.length > 0 ? workedMs : (o.imageMsFromMetrics ?? [])),
    perSliceMs: summarize(slices.map((s) => s.ms)),
    lanes: laneRecords(slices, o.peakRss),
    sliceFailures: o.sliceFailures.map(({ lane, error, startEpochMs, endEpochMs }) => ({
      lane,
      error,
      startMs: startEpochMs - o.originEpochMs,
      endMs: endEpochMs - o.originEpochMs,
    })),
    errorsByClass:
      images.length > 0
        ? countBy(
            images.filter((i) => i.status === "failed"),
            (i) => i.failureClass ?? "Unknown",
          )
        : countBy(o.errors, (e) => e.class),
    errorSamples: o.errors.slice(0, 20).map((e) => ({ key: e.key, class: e.class, message: e.message })),
    images,
    ...(workedMs.length === 0 && o.imageMsFromMetrics ? { imageMsSamples: o.imageMsFromMetrics } : {}),
    slices,
    ...(o.cpu ? { cpu: o.cpu } : {}),
    consistency: checkConsistency(o, images),
  };
}

function laneRecords(slices: readonly SliceRecord[], peakRss: Map<string, number>): LaneRecord[] {
  const lanes = new Map<string, LaneRecord>();
  for (const s of slices) {
    const lane = lanes.get(s.lane) ?? {
      lane: s.lane,
      slices: 0,
      images: 0,
      busyMs: 0,
      peakRssBytes: peakRss.get(s.lane) ?? null,
    };
    lane.slices += 1;
    lane.images += s.done + s.failed;
    lane.busyMs += s.endMs - s.startMs;
    lanes.set(s.lane, lane);
  }
  return [...lanes.values()].sort((a, b) => a.lane.localeCompare(b.lane, undefined, { numeric: true }));
}

function checkConsistency(o: RunObservation, images: readonly ImageRecord[]): RunResult["consistency"] {
  const notes: string[] = [];
  const { total, done, failed } = o.progress;
  if (done + failed !== total) notes.push(`Redis counts done ${done} + failed ${failed} ≠ total ${total}.`);
  const hasPerImage = o.slices.some((s) => s.images.length > 0);
  if (hasPerImage) {
    if (images.length !== total)
      notes.push(`The workers reported ${images.length} distinct images; the order has ${total}.`);
    const reportedDone = images.filter((i) => i.status === "done").length;
    const reportedFailed = images.filter((i) => i.status === "failed").length;
    if (reportedDone !== done || reportedFailed !== failed)
      notes.push(
        `The workers reported ${reportedDone} done and ${reportedFailed} failed; Redis counted ${done} and ${failed}.`,
      );
  }
  if (o.errors.length !== failed)
    notes.push(`Redis holds ${o.errors.length} error records for ${failed} failed images.`);
  return { ok: notes.length === 0, notes };
}
