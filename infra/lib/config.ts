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

type Raw = unknown;

function str(node: Node, key: string): string | undefined {
  const value: Raw = node.tryGetContext(key);
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" && typeof value !== "number") {
    throw new Error(`Context "${key}" must be a string, got ${JSON.stringify(value)}.`);
  }
  return String(value);
}

function int(node: Node, key: string, min: number, max: number): number | undefined {
  const text = str(node, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Context "${key}" must be an integer from ${min} to ${max}, got "${text}".`);
  }
  return value;
}

function bool(node: Node, key: string): boolean | undefined {
  const value: Raw = node.tryGetContext(key);
  if (value === undefined || value === null || value === "") return undefined;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new Error(`Context "${key}" must be true or false, got ${JSON.stringify(value)}.`);
}

function oneOf<T extends string>(node: Node, key: string, allowed: readonly T[]): T | undefined {
  const text = str(node, key);
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new Error(`Context "${key}" must be one of ${allowed.join(", ")}, got "${text}".`);
  }
  return text as T;
}

function retention(node: Node, key: string): RetentionDays | undefined {
  const days = int(node, key, 1, 3653);
  if (days === undefined) return undefined;
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === "number");
  if (!allowed.includes(days)) {
    throw new Error(
      `Context "${key}" must be a CloudWatch Logs retention (${allowed.join(", ")}), got ${days}.`,
    );
  }
  return days as RetentionDays;
}

/** workerTimeoutSeconds, refused below the hand-back floor: such a worker would hand back more than it does. */
function workerTimeoutSeconds(node: Node): number {
  const seconds = int(node, "workerTimeoutSeconds", 1, 900) ?? DEFAULT_WORKER_TIMEOUT_SECONDS;
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

/** workerReservedConcurrency: 1 to 10,000 workers, "none" for no cap, unset for the default. */
function workerReservedConcurrency(node: Node): number | undefined {
  const key = "workerReservedConcurrency";
  const text = str(node, key);
  if (text === undefined) return DEFAULT_WORKER_RESERVED_CONCURRENCY;
  if (text === NO_RESERVED_CONCURRENCY) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 10_000) {
    throw new Error(
      `Context "${key}" must be an integer from 1 to 10000, or "${NO_RESERVED_CONCURRENCY}" for no cap, got "${text}".`,
    );
  }
  return value;
}

/** A KMS key ARN (not an alias): `arn:<partition>:kms:<region>:<account>:key/<key id>`. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

/** originalsKmsKeyArn: the key ARN of an imported originals bucket's SSE-KMS key. */
function originalsKmsKeyArn(node: Node): string | undefined {
  const key = "originalsKmsKeyArn";
  const arn = str(node, key);
  if (arn === undefined) return undefined;
  if (!KMS_KEY_ARN.test(arn)) {
    throw new Error(
      `Context "${key}" must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<key id>; ` +
        `not an alias), got "${arn}".`,
    );
  }
  if (str(node, "originalsBucketName") === undefined) {
    throw new Error(
      `Context "${key}" is the key of an existing originals bucket: set "originalsBucketName" too ` +
        "(the bucket this stack creates uses S3-managed keys).",
    );
  }
  return arn;
}

const DAY_SECONDS = 24 * 3600;

function recordTtlSeconds(node: Node): number {
  return int(node, "recordTtlSeconds", 60, 90 * DAY_SECONDS) ?? DEFAULT_RECORD_TTL_SECONDS;
}

/** Reads and validates the app's context once; a bad value fails synth naming the key. */
export function readConfig(node: Node): ThumbsConfig {
  return {
    originalsBucketName: str(node, "originalsBucketName"),
    originalsKmsKeyArn: originalsKmsKeyArn(node),
    thumbnailPrefix: str(node, "thumbnailPrefix") ?? "",
    eventBusName: str(node, "eventBusName"),
    eventSource: str(node, "eventSource") ?? DEFAULT_EVENT_SOURCE,
    worker: {
      memoryMb: int(node, "workerMemoryMb", 128, 10_240) ?? DEFAULT_WORKER_MEMORY_MB,
      timeoutSeconds: workerTimeoutSeconds(node),
      reservedConcurrency: workerReservedConcurrency(node),
      concurrency: int(node, "workerConcurrency", 1, 64),
    },
    redis: {
      nodeType: str(node, "redisNodeType") ?? "cache.t4g.micro",
      multiAz: bool(node, "redisMultiAz") ?? false,
      keyPrefix: str(node, "redisKeyPrefix") ?? DEFAULT_KEY_PREFIX,
      recordTtlSeconds: recordTtlSeconds(node),
      snapshotRetentionDays: int(node, "redisSnapshotRetentionDays", 0, 35) ?? 1,
    },
    objectExpirationDays:
      int(node, "objectExpirationDays", 0, 3650) ?? Math.ceil(recordTtlSeconds(node) / DAY_SECONDS),
    output: {
      sizes: str(node, "thumbnailSizes"),
      format: oneOf(node, "thumbnailFormat", ["jpeg", "webp"] as const),
      quality: int(node, "thumbnailQuality", 1, 100),
    },
    failureThresholdPercent: int(node, "failureThresholdPercent", 0, 100),
    logRetention: retention(node, "logRetentionDays") ?? RetentionDays.ONE_MONTH,
    alarmEmail: str(node, "alarmEmail"),
    removalPolicy:
      oneOf(node, "removalPolicy", ["retain", "destroy"] as const) === "destroy"
        ? RemovalPolicy.DESTROY
        : RemovalPolicy.RETAIN,
    tracing: bool(node, "tracing") ?? false,
  };
}
