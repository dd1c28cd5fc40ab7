import {
  DEFAULT_EVENT_SOURCE,
  DEFAULT_IMAGE_TIMEOUT_SECONDS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_RECORD_TTL_SECONDS,
  defaultHandbackMarginSeconds,
} from "@thumbs/core";
import { RemovalPolicy } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { z } from "zod";

/**
 * Worker memory. Lambda gives a function CPU in proportion to its memory: 1,769 MB is exactly one
 * full vCPU. The worker keeps about two images in flight per vCPU (one libvips thread each; the
 * second overlaps S3 I/O with the first one's CPU work; CPU per image: docs/PERFORMANCE.md). Below 1,769 MB the same CPU work is stretched over a
 * fraction of a vCPU: the bill per image stays about the same (GB-seconds) but each slice takes
 * longer. Above it, a second vCPU only pays off with CONCURRENCY raised to match, and slices of ~25
 * images are short enough that fanning out over more functions beats fattening each one.
 */
export const DEFAULT_WORKER_MEMORY_MB = 1769;
/**
 * The worker's whole-image deadline (fetch + decode + store). This app does not set the worker's
 * IMAGE_TIMEOUT_SECONDS, so it is the worker's default.
 */
export const IMAGE_TIMEOUT_SECONDS = DEFAULT_IMAGE_TIMEOUT_SECONDS;

/**
 * The shortest worker timeout synth accepts: twice the worker's hand-back margin (an image's deadline
 * plus 5 s to record it, the worker's own rule). The worker stops starting images once less than the
 * margin is left, so at a timeout of one margin it would hand every slice back without resizing
 * anything; at twice it spends at least half of each invocation starting images.
 */
export function minWorkerTimeoutSeconds(imageTimeoutSeconds: number = IMAGE_TIMEOUT_SECONDS): number {
  return 2 * defaultHandbackMarginSeconds(imageTimeoutSeconds);
}

/**
 * A slice is a second or two of CPU, so the timeout is set by the hand-back rule instead: 70 s is its
 * floor with 30 s images (minWorkerTimeoutSeconds), and leaves 35 s to start images.
 */
export const DEFAULT_WORKER_TIMEOUT_SECONDS = 70;
/**
 * Workers that may run at once unless `workerReservedConcurrency` says otherwise ("none" lifts the cap).
 * Derived in infra/README.md ("Worker fan-out: why 75"): at ~20-23 images a second per 1-vCPU worker,
 * each image 1 GET + 2 PUTs, 75 workers stay under S3's ~3,500 PUT/s for one order's `{orderId}/`
 * prefix and keep Redis at 75 connections, while a 1,000-image order's 40 slices still all run at once.
 */
export const DEFAULT_WORKER_RESERVED_CONCURRENCY = 75;
/** The value of `workerReservedConcurrency` that deploys the worker without reserved concurrency. */
export const NO_RESERVED_CONCURRENCY = "none";

/** Everything a deployment can tune through CDK context (`cdk.json` or `-c key=value`). */
export interface ThumbsConfig {
  /** Use this existing bucket for originals instead of creating one. */
  originalsBucketName: string | undefined;
  /**
   * The KMS key of an existing originals bucket encrypted with SSE-KMS: its readers get kms:Decrypt on
   * it, through S3 only. Only with originalsBucketName.
   */
  originalsKmsKeyArn: string | undefined;
  thumbnailPrefix: string;
  /** Attach the rule to this existing event bus (e.g. `default`) instead of creating one. */
  eventBusName: string | undefined;
  /** The `source` of the backend's order-completed events. */
  eventSource: string;
  worker: {
    memoryMb: number;
    timeoutSeconds: number;
    /** Reserved concurrent executions; undefined = no cap (`workerReservedConcurrency=none`). */
    reservedConcurrency: number | undefined;
    /** Images in flight per worker; unset = derived from memory by the worker itself. */
    concurrency: number | undefined;
  };
  redis: {
    nodeType: string;
    multiAz: boolean;
    keyPrefix: string;
    recordTtlSeconds: number;
    /** Days of daily Redis snapshots kept; 0 takes none. */
    snapshotRetentionDays: number;
  };
  /**
   * Days after which objects in the thumbnails bucket (and the originals bucket, when the stack
   * creates it) expire; 0 keeps them. Defaults to the record TTL in whole days: once an order's
   * records expire, nothing lists or retries its images.
   */
  objectExpirationDays: number;
  /** Coordinator defaults for orders that do not name their own output. */
  output: { sizes: string | undefined; format: string | undefined; quality: number | undefined };
  /** Orders are marked failed once more than this percentage of their images failed. */
  failureThresholdPercent: number | undefined;
  logRetention: RetentionDays;
  alarmEmail: string | undefined;
  removalPolicy: RemovalPolicy;
  /** Active X-Ray tracing; adds an X-Ray interface endpoint (the VPC has no other way out). */
  tracing: boolean;
}

const DAY_SECONDS = 24 * 3600;
/** A KMS key ARN (not an alias): `arn:<partition>:kms:<region>:<account>:key/<key id>`. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;
const RETENTIONS = Object.values(RetentionDays).filter((v): v is number => typeof v === "number");

// Context comes from cdk.json (numbers, booleans) or `-c key=value` (strings): each schema takes both.
const text = z.union([z.string(), z.number()]).transform(String).describe("a string");
const integer = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).describe(`an integer from ${min} to ${max}`);
const flag = z
  .union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")])
  .describe("true or false");
const oneOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values).describe(`one of ${values.join(", ")}`);

/** Every context key the app reads, with what it accepts (the description is the error's "must be"). */
const CONTEXT = {
  originalsBucketName: text,
  originalsKmsKeyArn: z
    .string()
    .regex(KMS_KEY_ARN)
    .describe("the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<key id>; not an alias)"),
  thumbnailPrefix: text,
  eventBusName: text,
  eventSource: text,
  workerMemoryMb: integer(128, 10_240),
  workerTimeoutSeconds: integer(1, 900),
  workerReservedConcurrency: z
    .union([z.literal(NO_RESERVED_CONCURRENCY), z.coerce.number().int().min(1).max(10_000)])
    .describe(`an integer from 1 to 10000, or "${NO_RESERVED_CONCURRENCY}" for no cap`),
  workerConcurrency: integer(1, 64),
  redisNodeType: text,
  redisMultiAz: flag,
  redisKeyPrefix: text,
  recordTtlSeconds: integer(60, 90 * DAY_SECONDS),
  redisSnapshotRetentionDays: integer(0, 35),
  objectExpirationDays: integer(0, 3650),
  thumbnailSizes: text,
  thumbnailFormat: oneOf(["jpeg", "webp"]),
  thumbnailQuality: integer(1, 100),
  failureThresholdPercent: integer(0, 100),
  logRetentionDays: z.coerce
    .number()
    .refine((days) => RETENTIONS.includes(days))
    .describe(`a CloudWatch Logs retention (${RETENTIONS.join(", ")})`),
  alarmEmail: text,
  removalPolicy: oneOf(["retain", "destroy"]),
  tracing: flag,
};

type Context = { [K in keyof typeof CONTEXT]?: z.output<(typeof CONTEXT)[K]> };

/**
 * Reads every context key the app knows; unset (or empty) keys are left out. All bad values are
 * reported at once, each naming its key, what it must be and what it was.
 */
function readContext(node: Node): Context {
  const problems: string[] = [];
  const context: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(CONTEXT)) {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined || raw === null || raw === "") continue;
    const parsed = (schema as z.ZodType).safeParse(raw);
    if (parsed.success) context[key] = parsed.data;
    else problems.push(`Context "${key}" must be ${schema.description}, got ${JSON.stringify(raw)}.`);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return context as Context;
}

/** workerTimeoutSeconds, refused below the hand-back floor: such a worker would hand back more than it does. */
function workerTimeoutSeconds(context: Context): number {
  const seconds = context.workerTimeoutSeconds ?? DEFAULT_WORKER_TIMEOUT_SECONDS;
  const min = minWorkerTimeoutSeconds();
  if (seconds < min) {
    const margin = defaultHandbackMarginSeconds(IMAGE_TIMEOUT_SECONDS);
    throw new Error(
      `Context "workerTimeoutSeconds" must be at least ${min}, twice the worker's ${margin} s hand-back ` +
        `margin (its ${IMAGE_TIMEOUT_SECONDS} s image timeout plus time to record the image), got ${seconds}. ` +
        "The worker stops starting images when less than the margin is left, so a shorter timeout " +
        "spends most of each invocation handing images back.",
    );
  }
  return seconds;
}

/** originalsKmsKeyArn: only for an existing originals bucket (the one this stack creates uses S3 keys). */
function originalsKmsKeyArn(context: Context): string | undefined {
  if (context.originalsKmsKeyArn !== undefined && context.originalsBucketName === undefined) {
    throw new Error(
      'Context "originalsKmsKeyArn" is the key of an existing originals bucket: set "originalsBucketName" too ' +
        "(the bucket this stack creates uses S3-managed keys).",
    );
  }
  return context.originalsKmsKeyArn;
}

/** Reads and validates the app's context once; a bad value fails synth naming the key. */
export function readConfig(node: Node): ThumbsConfig {
  const c = readContext(node);
  const recordTtlSeconds = c.recordTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS;
  const reserved = c.workerReservedConcurrency ?? DEFAULT_WORKER_RESERVED_CONCURRENCY;
  return {
    originalsBucketName: c.originalsBucketName,
    originalsKmsKeyArn: originalsKmsKeyArn(c),
    thumbnailPrefix: c.thumbnailPrefix ?? "",
    eventBusName: c.eventBusName,
    eventSource: c.eventSource ?? DEFAULT_EVENT_SOURCE,
    worker: {
      memoryMb: c.workerMemoryMb ?? DEFAULT_WORKER_MEMORY_MB,
      timeoutSeconds: workerTimeoutSeconds(c),
      reservedConcurrency: reserved === NO_RESERVED_CONCURRENCY ? undefined : reserved,
      concurrency: c.workerConcurrency,
    },
    redis: {
      nodeType: c.redisNodeType ?? "cache.t4g.micro",
      multiAz: c.redisMultiAz ?? false,
      keyPrefix: c.redisKeyPrefix ?? DEFAULT_KEY_PREFIX,
      recordTtlSeconds,
      snapshotRetentionDays: c.redisSnapshotRetentionDays ?? 1,
    },
    objectExpirationDays: c.objectExpirationDays ?? Math.ceil(recordTtlSeconds / DAY_SECONDS),
    output: { sizes: c.thumbnailSizes, format: c.thumbnailFormat, quality: c.thumbnailQuality },
    failureThresholdPercent: c.failureThresholdPercent,
    logRetention: (c.logRetentionDays as RetentionDays | undefined) ?? RetentionDays.ONE_MONTH,
    alarmEmail: c.alarmEmail,
    removalPolicy: c.removalPolicy === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    tracing: c.tracing ?? false,
  };
}
