import { resolve } from "node:path";
import { completionChannel } from "@thumbs/core";
import { awaitOrder, type LocalStack, startLocalStack, uploadOrder } from "@thumbs/local";
import type { ObservedSlice, RunObservation } from "./analyze.js";
import type { Corpus } from "./corpus.js";
import { cpuAccount, cpuSnapshot } from "./cpu-usage.js";
import type { Progress } from "./progress.js";

export interface LocalRunOptions {
  orderId: string;
  workers: number;
  concurrencyPerWorker: number;
  sliceSize: number;
  timeoutMs: number;
  /** Write a V8 CPU profile of each worker process into this folder (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  /** Throttle the workers' S3 object requests as a hot prefix does (fault proxy, 503 SlowDown). */
  s3RateLimit?: { perSecond: number; burst: number } | undefined;
  /** The workers' AWS SDK retry mode (AWS_RETRY_MODE). */
  retryMode?: "standard" | "adaptive" | undefined;
}

// Uploading in chunks only to move the progress bar; uploadOrder itself keeps 16 PUTs in flight.
const UPLOAD_CHUNK = 50;

/**
 * One order through the whole local pipeline (fauxqs S3/SNS/SQS, a real Redis, worker processes
 * running the Lambda handler), timed from emitting order-completed to the Redis completion signal.
 */
export async function runLocalOrder(
  corpus: Corpus,
  options: LocalRunOptions,
  progress: Progress,
): Promise<RunObservation> {
  progress.status(
    `Starting the local pipeline: fauxqs, Redis, ${options.workers} worker processes × ${options.concurrencyPerWorker} images in flight…`,
  );
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
    ...(options.s3RateLimit ? { faults: { s3RateLimit: options.s3RateLimit } } : {}),
  });
  try {
    progress.status(`Redis: ${stack.redisHandle.source}; S3/SNS/SQS: fauxqs at ${stack.emulator.endpoint}`);
    const prefix = `orders/${options.orderId}/`;
    await upload(stack, prefix, corpus, progress);
    return await timeOrder(stack, prefix, corpus, options, progress);
  } finally {
    await stack.stop();
  }
}

async function upload(stack: LocalStack, prefix: string, corpus: Corpus, progress: Progress): Promise<void> {
  const { s3 } = stack.emulator.clients;
  const bucket = stack.emulator.resources.sourceBucket;
  progress.start("Uploading", corpus.files.length);
  for (let start = 0; start < corpus.files.length; start += UPLOAD_CHUNK) {
    const chunk = corpus.files.slice(start, start + UPLOAD_CHUNK);
    await uploadOrder(s3, bucket, prefix, chunk);
    progress.update(start + chunk.length);
  }
  progress.stop();
}

async function timeOrder(
  stack: LocalStack,
  prefix: string,
  corpus: Corpus,
  options: LocalRunOptions,
  progress: Progress,
): Promise<RunObservation> {
  const { orderId } = options;
  // A separate connection: a subscribed ioredis client can run no other command.
  const subscriber = stack.redis.duplicate();
  let signalled: number | undefined;
  const signal = new Promise<void>((resolve) => {
    subscriber.on("message", (_channel: string, message: string) => {
      if (message !== orderId) return;
      signalled ??= performance.now();
      resolve();
    });
  });
  await subscriber.subscribe(completionChannel(stack.keyPrefix));
  try {
    const eventsBefore = stack.workers.events.length;
    // The same processes are asked afterwards: a worker replaced meanwhile leaves the CPU unaccounted.
    const workers = [...stack.workers.processes];
    const cpuBefore = await cpuSnapshot(workers, stack.redis);
    const originEpochMs = Date.now();
    const started = performance.now();
    const plan = await stack.emitOrderCompleted({
      "detail-type": "order-completed",
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
    const proxy = stack.faultProxy?.stats;
    if (proxy)
      progress.status(
        `S3 throttling: ${proxy.failed} of ${proxy.failed + proxy.forwarded} worker requests answered 503 SlowDown`,
      );
    const cpuAfter = await cpuSnapshot(workers, stack.redis);
    // The signal is published by the same Lua call that marks the order complete, so it is already
    // on its way; the bounded wait only guards against a lost pub/sub message.
    await Promise.race([signal, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    progress.stop();
    const inStream = (await stack.ledger.completions()).some((c) => c.orderId === orderId);
    const wallSource =
      signalled !== undefined
        ? `Redis pub/sub completion signal${inStream ? " (also in the completions stream)" : ""}`
        : "progress poll (no pub/sub signal arrived: check the completions stream)";
    const wallMs = (signalled ?? polledAt) - started;

    const slices = await collectSlices(stack, eventsBefore, final.done + final.failed);
    const errors = (
      await stack.ledger.listErrors(orderId, { offset: 0, limit: Math.max(1, final.failed) })
    ).records.map((r) => ({ key: r.key, class: r.class, message: r.message }));
    return {
      label: "local",
      orderId,
      progress: {
        total: final.total,
        done: final.done,
        failed: final.failed,
        status: final.status,
        slices: final.slices,
      },
      wallMs,
      wallSource,
      originEpochMs,
      totalBytes: corpus.totalBytes,
      ...slices,
      errors,
      cpu: cpuAccount(cpuBefore, cpuAfter),
    };
  } finally {
    subscriber.disconnect();
  }
}

/**
 * The workers' slice reports for this order. The last report arrives over IPC just after the
 * completion signal (the slice ends after its last image is recorded), so wait for them briefly.
 */
async function collectSlices(
  stack: LocalStack,
  from: number,
  accounted: number,
): Promise<Pick<RunObservation, "slices" | "sliceFailures" | "peakRss">> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = stack.workers.events.slice(from);
    const indices = new Set<number>();
    for (const e of events)
      if (e.type === "slices")
        for (const r of e.reports)
          for (const i of r.images) if (i.status === "done" || i.status === "failed") indices.add(i.index);
    if (indices.size >= accounted || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const slices: ObservedSlice[] = [];
  const sliceFailures: RunObservation["sliceFailures"] = [];
  const peakRss = new Map<string, number>();
  for (const e of stack.workers.events.slice(from)) {
    const lane = `pid ${e.pid}`;
    if (e.type === "slice-failed") {
      sliceFailures.push({ lane, error: e.error, startEpochMs: e.started, endEpochMs: e.ended });
    } else if (e.type === "slices") {
      peakRss.set(lane, Math.max(peakRss.get(lane) ?? 0, e.rss));
      for (const r of e.reports) {
        slices.push({
          lane,
          sliceIndex: r.sliceIndex,
          startEpochMs: e.started,
          endEpochMs: e.ended,
          ms: r.ms,
          images: r.images.map((i) => ({ ...i, failureClass: i.failureClass })),
          done: r.done,
          failed: r.failed,
          skipped: r.skipped,
          deferred: r.deferred,
          handedBack: r.handedBack,
        });
      }
    }
  }
  return { slices, sliceFailures, peakRss };
}
