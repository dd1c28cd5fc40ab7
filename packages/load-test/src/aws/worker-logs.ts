import type { SliceReport } from "@thumbs/worker";
import { z } from "zod";
import type { ObservedSlice } from "../analyze.js";

/** One CloudWatch Logs event of the worker's log group. */
export interface LogEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
}

const count = z.number().default(0);
/** The handler's "slice resized" line (Powertools Logger): these fields of its SliceReport. */
const SliceFields = z.object({
  message: z.literal("slice resized"),
  orderId: z.string(),
  sliceIndex: z.number(),
  ms: z.number(),
  done: count,
  failed: count,
  skipped: count,
  deferred: count,
  handedBack: count,
}) satisfies z.ZodType<
  Pick<
    SliceReport,
    "orderId" | "sliceIndex" | "ms" | "done" | "failed" | "skipped" | "deferred" | "handedBack"
  >
>;
const SliceLine = SliceFields.transform(({ message: _, ...slice }) => ({ kind: "slice" as const, ...slice }));

// EMF writes one value or an array of values per metric.
const values = z
  .union([z.number(), z.array(z.number())])
  .optional()
  .transform((v) => [v ?? []].flat());
const MetricsLine = z
  .object({ _aws: z.object({}), ImageMs: values, SliceMs: values })
  .refine((m) => m.ImageMs.length + m.SliceMs.length > 0)
  .transform((m) => ({ kind: "metrics" as const, imageMs: m.ImageMs, sliceMs: m.SliceMs }));

/** Lambda's REPORT line as a JSON platform.report record (JSON log format). */
const PlatformReport = z
  .object({
    type: z.literal("platform.report"),
    record: z.object({
      metrics: z.object({
        durationMs: z.number(),
        billedDurationMs: z.number(),
        memorySizeMB: z.number(),
        maxMemoryUsedMB: z.number(),
        initDurationMs: z.number().optional(),
      }),
    }),
  })
  .transform(({ record: { metrics: m } }) =>
    report(m.durationMs, m.billedDurationMs, m.memorySizeMB, m.maxMemoryUsedMB, m.initDurationMs),
  );

const JsonLine = z.union([SliceLine, MetricsLine, PlatformReport]);
export type WorkerLogLine = z.infer<typeof JsonLine>;

function report(
  durationMs: number,
  billedMs: number,
  memoryMb: number,
  maxMemoryMb: number,
  initMs?: number,
) {
  return { kind: "report" as const, durationMs, billedMs, memoryMb, maxMemoryMb, initMs };
}

/**
 * Recognises the three worker log lines the load test reads: the handler's "slice resized" JSON line,
 * its EMF metrics line (ImageMs, SliceMs), and Lambda's REPORT line, as text or as JSON.
 */
export function parseWorkerLogLine(message: string): WorkerLogLine | undefined {
  const text = message.trim();
  if (text.startsWith("REPORT ")) return parseTextReport(text);
  if (!text.startsWith("{")) return undefined;
  try {
    return JsonLine.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}

function parseTextReport(text: string): WorkerLogLine {
  const field = (name: string) => {
    const match = new RegExp(`${name}: ([0-9.]+)`).exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const f = (name: string) => field(name) ?? 0;
  const init = field("Init Duration");
  return report(f("Duration"), f("Billed Duration"), f("Memory Size"), f("Max Memory Used"), init);
}

export interface WorkerLogSummary {
  slices: ObservedSlice[];
  /** ImageMs values of the invocations that handled this order's slices. */
  imageMs: number[];
  /** Invocations of those streams in the window, and how many of them started cold. */
  invocations: number;
  coldStarts: number;
  initMs: number[];
  billedMs: number;
  memoryMb: number | undefined;
  peakMemoryMb: Map<string, number>;
}

/**
 * Groups a run's worker log events by log stream (one per Lambda execution environment) and ties
 * each EMF metrics line and REPORT line to the "slice resized" line before it in the same stream,
 * so only this order's invocations count. A slice's start is its log time minus its own duration.
 */
export function summarizeWorkerLogs(events: readonly LogEvent[], orderId: string): WorkerLogSummary {
  const summary: WorkerLogSummary = {
    slices: [],
    imageMs: [],
    invocations: 0,
    coldStarts: 0,
    initMs: [],
    billedMs: 0,
    memoryMb: undefined,
    peakMemoryMb: new Map(),
  };
  const streams = new Map<string, LogEvent[]>();
  for (const e of events) streams.set(e.logStreamName, [...(streams.get(e.logStreamName) ?? []), e]);
  for (const [stream, streamEvents] of streams) {
    const lane = stream.slice(-8);
    let ours = false;
    for (const e of [...streamEvents].sort((a, b) => a.timestamp - b.timestamp)) {
      const line = parseWorkerLogLine(e.message);
      if (line?.kind === "slice") ours = line.orderId === orderId;
      if (line && ours) addLine(summary, lane, e.timestamp, line);
      // The REPORT line closes the invocation: what follows belongs to the next one.
      if (line?.kind === "report") ours = false;
    }
  }
  return summary;
}

/** Adds one of this order's lines, logged at `timestamp` on `lane`, to the summary. */
function addLine(summary: WorkerLogSummary, lane: string, timestamp: number, line: WorkerLogLine): void {
  if (line.kind === "slice") {
    const { kind: _, orderId: __, ...counts } = line;
    summary.slices.push({
      lane,
      startEpochMs: timestamp - line.ms,
      endEpochMs: timestamp,
      images: [],
      ...counts,
    });
  } else if (line.kind === "metrics") {
    summary.imageMs.push(...line.imageMs);
  } else {
    summary.invocations += 1;
    summary.billedMs += line.billedMs;
    summary.memoryMb = line.memoryMb;
    if (line.initMs !== undefined) summary.coldStarts += 1;
    if (line.initMs !== undefined) summary.initMs.push(line.initMs);
    summary.peakMemoryMb.set(lane, Math.max(summary.peakMemoryMb.get(lane) ?? 0, line.maxMemoryMb));
  }
}
