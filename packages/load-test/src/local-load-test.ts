import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { completionChannel, ORDER_COMPLETED_DETAIL_TYPE } from "@thumbs/core";
import { awaitOrder, type LocalStack, startLocalStack } from "@thumbs/local";
import pWaitFor from "p-wait-for";
import { analyzeRun, type RunObservation } from "./analyze.js";
import { mergeBaselines, runBaseline } from "./baseline.js";
import { type Corpus, type CorpusOptions, loadTestCorpus, uploadOriginals } from "./corpus.js";
import { cpuAccount, cpuSnapshot } from "./cpu-usage.js";
import { overheadRatio } from "./overhead.js";
import type { Progress } from "./progress.js";
import { bytes, compactTimestamp, type LoadTestOutcome, resultHeader, writeResult } from "./report.js";
import type { BaselineResult, LoadTestResult, RunResult } from "./result.js";

export interface LocalLoadTestOptions extends CorpusOptions {
  outDir: string;
  workers: number;
  concurrencyPerWorker: number;
  sliceSize: number;
  timeoutMs: number;
  baseline: boolean;
  orderId?: string | undefined;
  cpuProfDir?: string | undefined;
  s3RateLimit?: number | undefined;
  retryMode?: "standard" | "adaptive" | undefined;
}

/** The `local` command: the order through the local pipeline, between two timings of pure resizing. */
export async function runLocalLoadTest(
  options: LocalLoadTestOptions,
  progress: Progress,
): Promise<LoadTestOutcome> {
  const startedAt = new Date();
  const orderId = options.orderId ?? `lt-${compactTimestamp(startedAt)}-${randomUUID().slice(0, 6)}`;
  progress.status(
    `Preparing ${options.images} photo-like JPEGs (cached in ${options.cacheDir}; the first 1,000 take minutes)…`,
  );
  const corpus = await loadTestCorpus(options, progress.status);
  progress.status(
    `Corpus: ${corpus.files.length} images, ${bytes(corpus.totalBytes)} in ${corpus.dir} (detail ${corpus.detail}, ${corpus.detailSource})`,
  );

  // Pure resizing just before and just after the pipeline: on a shared machine the CPU a resize
  // takes drifts, and the spread of the two shows by how much.
  const before = options.baseline ? await measureBaseline("before", corpus, options, progress) : undefined;
  const run = analyzeRun(await runLocalOrder(corpus, { ...options, orderId }, progress));
  const after = before ? await measureBaseline("after", corpus, options, progress) : undefined;

  const { workers, concurrencyPerWorker, sliceSize } = options;
  return writeResult(options.outDir, {
    ...resultHeader("local", startedAt, options, corpus, { workers, concurrencyPerWorker, sliceSize }),
    runs: [run],
    ...(before && after ? overheadAgainst(run, before, after, { workers, concurrencyPerWorker }) : {}),
    notes: [],
  });
}

async function measureBaseline(
  when: "before" | "after",
  corpus: Corpus,
  o: LocalLoadTestOptions,
  progress: Progress,
) {
  progress.start(`Baseline (${when})`, corpus.files.length);
  const baseline = await runBaseline(corpus.files, o.workers, o.concurrencyPerWorker, (n) =>
    progress.update(n),
  );
  progress.stop();
  return baseline;
}

function overheadAgainst(
  run: RunResult,
  before: BaselineResult,
  after: BaselineResult,
  { workers, concurrencyPerWorker }: Pick<LocalLoadTestOptions, "workers" | "concurrencyPerWorker">,
) {
  const baseline = mergeBaselines(before, after);
  const worked = run.done + run.failed;
  const bracket = (
    when: "before" | "after",
    { wallMs, cpuMs, cpuMsPerImage, otherLoadShare }: BaselineResult,
  ) => ({ when, wallMs, cpuMs, cpuMsPerImage, otherLoadShare }) as const;
  return {
    baseline,
    baselineBrackets: [bracket("before", before), bracket("after", after)],
    overhead: overheadRatio({
      pipelineWallMs: run.wallMs,
      lanes: workers * concurrencyPerWorker,
      baselineImageMs: baseline.images.map((i) => i.ms),
      baselineWallMs: baseline.wallMs,
      pipelineCpuMs: run.cpu?.totalMs,
      baselineCpuMs: baseline.cpuMs,
      otherLoad: [run.cpu?.otherLoadShare, before.otherLoadShare, after.otherLoadShare],
      pipelineImageMsSum: run.perImageMs.count > 0 ? run.perImageMs.sum : undefined,
      invocationLaneMs: run.slices.reduce((total, slice) => total + slice.ms, 0) * concurrencyPerWorker,
      workerCpu:
        run.cpu && worked > 0
          ? {
              msPerImage: run.cpu.workersMs / worked,
              baselineMsPerImage: [before.cpuMsPerImage, after.cpuMsPerImage],
            }
          : undefined,
    }),
  } satisfies Partial<LoadTestResult>;
}

/** One order through fauxqs, Redis and worker processes, timed from order-completed to the completion signal. */
async function runLocalOrder(
  corpus: Corpus,
  options: LocalLoadTestOptions & { orderId: string },
  progress: Progress,
): Promise<RunObservation> {
  const rate = options.s3RateLimit;
  const stack = await startLocalStack({
    workers: options.workers,
    concurrencyPerWorker: options.concurrencyPerWorker,
    sliceSize: options.sliceSize,
    workerEnv: {
      // --cpu-prof is not allowed in NODE_OPTIONS and the pool forks without execArgv, so the worker
      // process starts V8's profiler itself when this is set.
      ...(options.cpuProfDir ? { LOCAL_CPU_PROFILE_DIR: resolve(options.cpuProfDir) } : {}),
      ...(options.retryMode ? { AWS_RETRY_MODE: options.retryMode } : {}),
    },
    // Only the workers' S3 traffic is throttled, and, as on a hot prefix, a burst of a third of a second.
    ...(rate
      ? { faults: { s3RateLimit: { perSecond: rate, burst: Math.max(1, Math.round(rate / 3)) } } }
      : {}),
  });
  try {
    progress.status(`Redis: ${stack.redisHandle.source}; S3/SNS/SQS: fauxqs at ${stack.emulator.endpoint}`);
    const prefix = `orders/${options.orderId}/`;
    await uploadOriginals(
      stack.emulator.clients.s3,
      stack.emulator.resources.sourceBucket,
      prefix,
      corpus.files,
      progress,
    );
    return await timeOrder(stack, prefix, corpus, options, progress);
  } finally {
    await stack.stop();
  }
}

async function timeOrder(
  stack: LocalStack,
  prefix: string,
  corpus: Corpus,
  { orderId, timeoutMs }: { orderId: string; timeoutMs: number },
  progress: Progress,
): Promise<RunObservation> {
  // A separate connection: a subscribed ioredis client can run no other command.
  const subscriber = stack.redis.duplicate();
  const signal = new Promise<number>((resolve) =>
    subscriber.on(
      "message",
      (_: string, message: string) => message === orderId && resolve(performance.now()),
    ),
  );
  await subscriber.subscribe(completionChannel(stack.keyPrefix));
  try {
    const eventsBefore = stack.workers.events.length;
    // The same processes are asked afterwards: a worker replaced meanwhile leaves the CPU unaccounted.
    const workers = [...stack.workers.processes];
    const cpuBefore = await cpuSnapshot(workers, stack.redis);
    // The workers' slice times are on their monotonic clocks (worker-process.ts): so is the origin.
    const originEpochMs = performance.timeOrigin + performance.now();
    const started = performance.now();
    const detail = { orderId, bucket: stack.emulator.resources.sourceBucket, prefix };
    const plan = await stack.emitOrderCompleted({
      "detail-type": ORDER_COMPLETED_DETAIL_TYPE,
      source: "load-test",
      detail,
    });
    progress.status(`Order ${orderId}: ${plan.total} images in ${plan.slices} slices`);
    progress.start("Resizing", plan.total, { done: 0, failed: 0 });
    const final = await awaitOrder(stack.ledger, orderId, {
      timeoutMs,
      intervalMs: 100,
      onProgress: (p) => progress.update(p.done + p.failed, { done: p.done, failed: p.failed }),
    });
    const polledAt = performance.now();
    const cpuAfter = await cpuSnapshot(workers, stack.redis);
    // The signal is published by the Lua call that completes the order; the wait only guards against a lost message.
    const signalledAt = await Promise.race([signal, sleep(2_000, undefined)]);
    progress.stop();
    const proxy = stack.faultProxy?.stats;
    if (proxy)
      progress.status(
        `S3 throttling: ${proxy.failed} of ${proxy.failed + proxy.forwarded} worker requests answered 503 SlowDown`,
      );
    const inStream = (await stack.ledger.completions()).some((c) => c.orderId === orderId);
    // The last slice report arrives over IPC just after the completion signal.
    const reported = () =>
      new Set(
        stack.workers.events
          .slice(eventsBefore)
          .flatMap((e) => (e.type === "slices" ? e.reports.flatMap((r) => r.images) : []))
          .filter((i) => i.status === "done" || i.status === "failed")
          .map((i) => i.index),
      ).size;
    await pWaitFor(() => reported() >= final.done + final.failed, {
      interval: 50,
      timeout: { milliseconds: 10_000, fallback: () => undefined },
    });
    const { records } = await stack.ledger.listErrors(orderId, {
      offset: 0,
      limit: Math.max(1, final.failed),
    });
    const observation: RunObservation = {
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
      slices: [],
      sliceFailures: [],
      peakRss: new Map(),
      errors: records,
      cpu: cpuAccount(cpuBefore, cpuAfter),
    };
    for (const e of stack.workers.events.slice(eventsBefore)) {
      const lane = `pid ${e.pid}`;
      if (e.type === "slice-failed")
        observation.sliceFailures.push({
          lane,
          error: e.error,
          startEpochMs: e.started,
          endEpochMs: e.ended,
        });
      if (e.type !== "slices") continue;
      observation.peakRss.set(lane, Math.max(observation.peakRss.get(lane) ?? 0, e.rss));
      observation.slices.push(
        ...e.reports.map((r) => ({ ...r, lane, startEpochMs: e.started, endEpochMs: e.ended })),
      );
    }
    return observation;
  } finally {
    subscriber.disconnect();
  }
}
