import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import {
  type CoordinatorConfig,
  loadCoordinatorConfig,
  type PlanReport,
  planOrder,
} from "@thumbs/coordinator";
import { createRedis, environment, OrderLedger, threadpoolSize, workerEnv } from "@thumbs/core";
import type { Redis } from "ioredis";
import { localWorkerEnv } from "./config.js";
import { type DeadLetterConsumer, startDeadLetterConsumer } from "./dead-letters.js";
import { type Emulator, type EmulatorResources, startEmulator } from "./emulator.js";
import { type FaultProxy, type FaultSettings, startFaultProxy } from "./fault-proxy.js";
import { listenForOrderEvents, type OrderEventListener } from "./order-events.js";
import { findOrStartRedis, type RedisHandle } from "./redis.js";
import { startWorkerPool, type WorkerPool } from "./worker-pool.js";

export interface LocalStackOptions {
  /** Worker processes (default: one per core). */
  workers?: number;
  /** Images in flight per worker process (default 2: one decoding while the next downloads). */
  concurrencyPerWorker?: number;
  sliceSize?: number;
  /** Redis key prefix; tests use a unique one each so they can share a Redis. */
  keyPrefix?: string;
  resources?: Partial<EmulatorResources>;
  visibilityTimeoutSeconds?: number;
  /** Extra environment for the worker processes (limits, timeouts). */
  workerEnv?: Record<string, string>;
  /** An already running Redis (tests share one); otherwise one is found or started. */
  redis?: RedisHandle;
  /**
   * Fault injection for the workers' S3 traffic (see fault-proxy.ts). `faults: {}` starts the proxy
   * with no faults, to be set later with `stack.faultProxy.configure(…)`.
   */
  faults?: FaultSettings & { seed?: string };
  /** The time limit each worker invocation gets (Lambda's timeout), in ms. */
  functionTimeoutMs?: number;
}

export interface LocalStack {
  emulator: Emulator;
  redisHandle: RedisHandle;
  redis: Redis;
  ledger: OrderLedger;
  workers: WorkerPool;
  faultProxy: FaultProxy | undefined;
  /** Settles slices that failed every delivery, as the dead-letter Lambda does on AWS. */
  deadLetters: DeadLetterConsumer;
  coordinatorConfig: CoordinatorConfig;
  keyPrefix: string;
  /** What the backend hears: order-thumbnails-completed events from the order-events topic. */
  orderEvents: OrderEventListener;
  /** Runs the real coordinator core on an order-completed event, as the EventBridge rule would. */
  emitOrderCompleted(event: unknown): Promise<PlanReport>;
  stop(): Promise<void>;
}

/**
 * The whole pipeline on one machine: fauxqs for S3/SNS/SQS, a real Redis, the coordinator in this
 * process, and worker processes fed from the slice queue, all with the same code that runs on Lambda.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const keyPrefix = options.keyPrefix ?? `thumbs:${randomUUID().slice(0, 8)}:`;
  const redisHandle = options.redis ?? (await findOrStartRedis());
  const emulator = await startEmulator({
    resources: options.resources ?? {},
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 60,
  });
  const shared = { REDIS_URL: redisHandle.url, REDIS_KEY_PREFIX: keyPrefix, ...emulator.awsEnv };
  const coordinatorConfig = loadCoordinatorConfig({
    ...shared,
    SLICE_TOPIC_ARN: emulator.topicArn,
    ORDER_EVENTS_TOPIC_ARN: emulator.orderEventsTopicArn,
    SLICE_SIZE: options.sliceSize ? String(options.sliceSize) : undefined,
    ALLOWED_SOURCE_BUCKETS: emulator.resources.sourceBucket,
  });
  const faultProxy = options.faults
    ? await startFaultProxy({ target: emulator.endpoint, ...options.faults })
    : undefined;
  const concurrency = options.concurrencyPerWorker ?? 2;
  // The worker's own contract and the local process's, as infra writes the Lambda's (typed).
  const workers = await startWorkerPool(options.workers ?? availableParallelism(), {
    ...emulator.awsEnv,
    ...(faultProxy ? { AWS_ENDPOINT_URL: faultProxy.endpoint } : {}),
    ...environment(workerEnv, {
      REDIS_URL: redisHandle.url,
      REDIS_KEY_PREFIX: keyPrefix,
      SLICE_TOPIC_ARN: emulator.topicArn,
      ORDER_EVENTS_TOPIC_ARN: emulator.orderEventsTopicArn,
      THUMBNAIL_BUCKET: emulator.resources.thumbnailBucket,
      S3_FORCE_PATH_STYLE: "true",
      CONCURRENCY: String(concurrency),
      // As on Lambda (infra sets it too): libuv sizes its pool once, before the handler runs.
      UV_THREADPOOL_SIZE: String(threadpoolSize(concurrency)),
    }),
    ...environment(localWorkerEnv, {
      SLICE_QUEUE_URL: emulator.queueUrl,
      LOCAL_FUNCTION_TIMEOUT_MS: options.functionTimeoutMs ? String(options.functionTimeoutMs) : undefined,
      LOCAL_VISIBILITY_TIMEOUT_SECONDS: String(options.visibilityTimeoutSeconds ?? 60),
    }),
    POWERTOOLS_METRICS_DISABLED: "true",
    // Per-image failures are reported by the ledger; worker logs would only repeat them locally.
    POWERTOOLS_LOG_LEVEL: "ERROR",
    // Node 20 is supported locally; Lambda runs nodejs22.x, so the SDK's Node 20 notice is noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...options.workerEnv,
  });
  const redis = createRedis(redisHandle.url);
  const ledger = new OrderLedger(redis, { keyPrefix, ttlSeconds: coordinatorConfig.redis.ttlSeconds });
  const { s3, sns, sqs } = emulator.clients;
  const orderEvents = listenForOrderEvents(sqs, emulator.orderEventsQueueUrl);
  const deadLetters = startDeadLetterConsumer({
    sqs,
    queueUrl: emulator.deadLetterQueueUrl,
    ledger,
    sns,
    s3,
    thumbnails: { bucket: emulator.resources.thumbnailBucket, prefix: "" },
    orderEventsTopicArn: emulator.orderEventsTopicArn,
  });

  return {
    emulator,
    redisHandle,
    redis,
    ledger,
    workers,
    faultProxy,
    deadLetters,
    coordinatorConfig,
    keyPrefix,
    orderEvents,
    emitOrderCompleted: (event) => planOrder({ s3, sns, ledger, config: coordinatorConfig }, event),
    stop: async () => {
      await workers.stop();
      // Before Redis and the emulator go: a slice being settled finishes first. Both long-poll for
      // up to a second, so they stop side by side.
      await Promise.all([deadLetters.stop(), orderEvents.stop()]);
      await faultProxy?.close();
      await deleteKeys(redis, keyPrefix);
      redis.disconnect();
      await emulator.stop();
      if (!options.redis) await redisHandle.stop();
    },
  };
}

/** Removes every key under a prefix (SCAN, not KEYS, so a shared Redis is never blocked). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
}
