import type { ObservedSlice } from "../analyze.js";

/** One CloudWatch Logs event of the worker's log group. */
export interface LogEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
}

export type WorkerLogLine =
  | {
      kind: "slice";
      orderId: string;
      sliceIndex: number;
      ms: number;
      done: number;
      failed: number;
      skipped: number;
      deferred: number;
      handedBack: number;
    }
  | { kind: "metrics"; imageMs: number[]; sliceMs: number[] }
  | {
      kind: "report";
      durationMs: number;
      billedMs: number;
      memoryMb: number;
      maxMemoryMb: number;
      initMs: number | undefined;
    };

const num = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined;
const list = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.filter((v): v is number => typeof v === "number")
    : typeof value === "number"
      ? [value]
      : [];

/**
 * Recognises the three worker log lines the load test reads: the handler's "slice resized" JSON line
 * (Powertools Logger), its EMF metrics line (ImageMs, SliceMs; one value or an array), and Lambda's
 * REPORT line, as text or as a JSON platform.report record (JSON log format).
 */
export function parseWorkerLogLine(message: string): WorkerLogLine | undefined {
  const text = message.trim();
  if (text.startsWith("REPORT ")) return parseTextReport(text);
  if (!text.startsWith("{")) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (json.type === "platform.report") {
    const metrics = ((json.record as Record<string, unknown> | undefined)?.metrics ?? {}) as Record<
      string,
      unknown
    >;
    return {
      kind: "report",
      durationMs: num(metrics.durationMs) ?? 0,
      billedMs: num(metrics.billedDurationMs) ?? 0,
      memoryMb: num(metrics.memorySizeMB) ?? 0,
      maxMemoryMb: num(metrics.maxMemoryUsedMB) ?? 0,
      initMs: num(metrics.initDurationMs),
    };
  }
  if (json.message === "slice resized" && typeof json.orderId === "string") {
    return {
      kind: "slice",
      orderId: json.orderId,
      sliceIndex: num(json.sliceIndex) ?? -1,
      ms: num(json.ms) ?? 0,
      done: num(json.done) ?? 0,
      failed: num(json.failed) ?? 0,
      skipped: num(json.skipped) ?? 0,
      deferred: num(json.deferred) ?? 0,
      handedBack: num(json.handedBack) ?? 0,
    };
  }
  if (typeof json._aws === "object" && json._aws !== null && ("ImageMs" in json || "SliceMs" in json)) {
    return { kind: "metrics", imageMs: list(json.ImageMs), sliceMs: list(json.SliceMs) };
  }
  return undefined;
}

function parseTextReport(text: string): WorkerLogLine {
  const field = (name: string) => {
    const match = new RegExp(`${name}: ([0-9.]+)`).exec(text);
    return match ? Number(match[1]) : undefined;
  };
  return {
    kind: "report",
    durationMs: field("Duration") ?? 0,
    billedMs: field("Billed Duration") ?? 0,
    memoryMb: field("Memory Size") ?? 0,
    maxMemoryMb: field("Max Memory Used") ?? 0,
    initMs: field("Init Duration"),
  };
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
      if (!line) continue;
      if (line.kind === "slice") {
        ours = line.orderId === orderId;
        if (ours)
          summary.slices.push({
            lane,
            sliceIndex: line.sliceIndex,
            startEpochMs: e.timestamp - line.ms,
            endEpochMs: e.timestamp,
            ms: line.ms,
            images: [],
            done: line.done,
            failed: line.failed,
            skipped: line.skipped,
            deferred: line.deferred,
            handedBack: line.handedBack,
          });
      } else if (line.kind === "metrics" && ours) {
        summary.imageMs.push(...line.imageMs);
      } else if (line.kind === "report" && ours) {
        summary.invocations += 1;
        summary.billedMs += line.billedMs;
        summary.memoryMb = line.memoryMb;
        if (line.initMs !== undefined) {
          summary.coldStarts += 1;
          summary.initMs.push(line.initMs);
        }
        summary.peakMemoryMb.set(lane, Math.max(summary.peakMemoryMb.get(lane) ?? 0, line.maxMemoryMb));
        // The REPORT line closes the invocation: what follows belongs to the next one.
        ours = false;
      }
    }
  }
  return summary;
}
