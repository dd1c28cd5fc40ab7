import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { completionChannel, ORDER_COMPLETED_DETAIL_TYPE } from "@thumbs/core";
import { awaitOrder, type LocalStack, startLocalStack, type WorkerPoolEvent } from "@thumbs/local";
import pWaitFor from "p-wait-for";
import type { ObservedSlice, RunObservation } from "./analyze.js";
import { type Corpus, uploadOriginals } from "./corpus.js";
import { cpuAccount, cpuSnapshot } from "./cpu-usage.js";
import type { Progress } from "./progress.js";

/** How the local pipeline is started for the order. */
export interface LocalOrderOptions {
  orderId: string;
  workers: number;
  concurrencyPerWorker: number;
  sliceSize: number;
  timeoutMs: number;
  /** Write a V8 CPU profile of each worker process into this folder (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  /** Answer the workers' S3 object requests beyond this many per second with 503 SlowDown. */
  s3RateLimit?: number | undefined;
  /** The workers' AWS SDK retry mode (AWS_RETRY_MODE). */
  retryMode?: "standard" | "adaptive" | undefined;
}

/**
 * One order through the whole local pipeline (fauxqs S3/SNS/SQS, a real Redis, worker processes
 * running the Lambda handler), timed from emitting order-completed to the Redis completion signal.
 */
export async function runLocalOrder(
  corpus: Corpus,
  options: LocalOrderOptions,
  progress: Progress,
): Promise<RunObservation> {
  progress.status(
    `Starting the local pipeline: fauxqs, Redis, ${options.workers} worker processes × ${options.concurrencyPerWorker} images in flight…`,
  );
  const rate = options.s3RateLimit;
  const stack = await startLocalStack({
    workers: options.workers,
    concurrencyPerWorker: options.concurrencyPerWorker,
    sliceSize: options.sliceSize,
    workerEnv: {
      // --cpu-prof is not allowed in NODE_OPTIONS and the pool forks workers without execArgv, so the
      // worker process starts V8's profiler itself when this is set (packages/local/src/worker-process.ts).
      ...(options.cpuProfDir ? { LOCAL_CPU_PROFILE_DIR: resolve(options.cpuProfDir) } : {}),
      ...(options.retryMode ? { AWS_RETRY_MODE: options.retryMode } : {}),
    },
    // Only the workers' S3 traffic goes through the proxy: the upload before the order is not throttled.
    // A hot prefix throttles a burst too, so the bucket holds only a third of a second's requests.
    ...(rate
      ? { faults: { s3RateLimit: { perSecond: rate, burst: Math.max(1, Math.round(rate / 3)) } } }
      : {}),
  });
  try {
    progress.status(`Redis: ${stack.redisHandle.source}; S3/SNS/SQS: fauxqs at ${stack.emulator.endpoint}`);
    const prefix = `orders/${options.orderId}/`;
    const { s3 } = stack.emulator.clients;
    await uploadOriginals(s3, stack.emulator.resources.sourceBucket, prefix, corpus.files, progress);
    return await timeOrder(stack, prefix, corpus, options, progress);
  } finally {
    await stack.stop();
  }
}

async function timeOrder(
  stack: LocalStack,
  prefix: string,
  corpus: Corpus,
  options: LocalOrderOptions,
  progress: Progress,
): Promise<RunObservation> {
  const { orderId } = options;
  const signal = await completionSignal(stack, orderId);
  try {
    const eventsBefore = stack.workers.events.length;
    // The same processes are asked afterwards: a worker replaced meanwhile leaves the CPU unaccounted.
    const workers = [...stack.workers.processes];
    const cpuBefore = await cpuSnapshot(workers, stack.redis);
    const originEpochMs = Date.now();
    const started = performance.now();
    const plan = await stack.emitOrderCompleted({
      "detail-type": ORDER_COMPLETED_DETAIL_TYPE,
      source: "load-test",
      detail: { orderId, bucket: stack.emulator.resources.sourceBucket, prefix },
    });
    progress.status(`Order ${orderId}: ${plan.total} images in ${plan.slices} slices`);
    progress.start("Resizing", plan.total, { done: 0, failed: 0 });
    const final = await awaitOrder(stack.ledger, orderId, {
      timeoutMs: options.timeoutMs,
      intervalMs: 100,
      onProgress: (p) => progress.update(p.done + p.failed, { done: p.done, failed: p.failed }),
    });
    const polledAt = performance.now();
    const cpuAfter = await cpuSnapshot(workers, stack.redis);
    // The signal is published by the same Lua call that marks the order complete, so it is already
    // on its way; the bounded wait only guards against a lost pub/sub message.
    const signalledAt = await Promise.race([signal.at, sleep(2_000, undefined)]);
    progress.stop();
    const proxy = stack.faultProxy?.stats;
    if (proxy)
      progress.status(
        `S3 throttling: ${proxy.failed} of ${proxy.failed + proxy.forwarded} worker requests answered 503 SlowDown`,
      );
    const inStream = (await stack.ledger.completions()).some((c) => c.orderId === orderId);
    const events = await orderEvents(stack, eventsBefore, final.done + final.failed);
    const { records } = await stack.ledger.listErrors(orderId, {
      offset: 0,
      limit: Math.max(1, final.failed),
    });
    return {
      label: "local",
      orderId,
      progress: final,
      wallMs: (signalledAt ?? polledAt) - started,
      wallSource:
        signalledAt !== undefined
          ? `Redis pub/sub completion signal${inStream ? " (also in the completions stream)" : ""}`
          : "progress poll (no pub/sub signal arrived: check the completions stream)",
      originEpochMs,
      totalBytes: corpus.totalBytes,
      ...observedSlices(events),
      errors: records,
      cpu: cpuAccount(cpuBefore, cpuAfter),
    };
  } finally {
    signal.close();
  }
}

/** When the order's completion signal arrives on Redis pub/sub (performance.now()). */
async function completionSignal(
  stack: LocalStack,
  orderId: string,
): Promise<{ at: Promise<number>; close: () => void }> {
  // A separate connection: a subscribed ioredis client can run no other command.
  const subscriber = stack.redis.duplicate();
  const at = new Promise<number>((resolve) => {
    subscriber.on("message", (_channel: string, message: string) => {
      if (message === orderId) resolve(performance.now());
    });
  });
  await subscriber.subscribe(completionChannel(stack.keyPrefix));
  return { at, close: () => subscriber.disconnect() };
}

/**
 * The worker pool's events since `from`. The last slice report arrives over IPC just after the
 * completion signal (the slice ends after its last image is recorded), so wait until the reports
 * account for every image, or briefly.
 */
async function orderEvents(stack: LocalStack, from: number, accounted: number): Promise<WorkerPoolEvent[]> {
  const events = () => stack.workers.events.slice(from);
  const reported = () =>
    new Set(
      events()
        .flatMap((e) => (e.type === "slices" ? e.reports.flatMap((r) => r.images) : []))
        .filter((i) => i.status === "done" || i.status === "failed")
        .map((i) => i.index),
    ).size;
  await pWaitFor(() => reported() >= accounted, {
    interval: 50,
    timeout: { milliseconds: 10_000, fallback: () => undefined },
  });
  return events();
}

/** The workers' slice reports placed on their lanes (one per process), and their peak RSS. */
function observedSlices(
  events: readonly WorkerPoolEvent[],
): Pick<RunObservation, "slices" | "sliceFailures" | "peakRss"> {
  const slices: ObservedSlice[] = [];
  const sliceFailures: RunObservation["sliceFailures"] = [];
  const peakRss = new Map<string, number>();
  for (const e of events) {
    const lane = `pid ${e.pid}`;
    if (e.type === "slice-failed") {
      sliceFailures.push({ lane, error: e.error, startEpochMs: e.started, endEpochMs: e.ended });
    } else if (e.type === "slices") {
      peakRss.set(lane, Math.max(peakRss.get(lane) ?? 0, e.rss));
      slices.push(...e.reports.map((r) => ({ ...r, lane, startEpochMs: e.started, endEpochMs: e.ended })));
    }
  }
  return { slices, sliceFailures, peakRss };
}
