import {
  deadLetterEnv,
  defaultHandbackMarginSeconds,
  type Env,
  type RedisSettings,
  readEnv,
  redisSettings,
  type ThumbnailSettings,
  thumbnailSettings,
  workerEnv,
} from "@thumbs/core";

export interface WorkerConfig extends ThumbnailSettings {
  redis: RedisSettings;
  /** Images resized at once in this process; undefined = derived from the CPU share (see concurrency.ts). */
  concurrency: number | undefined;
  /** Where the worker hands back images it could not finish in time, and re-queues Transient ones. */
  sliceTopicArn: string;
  /** Where the order-thumbnails-completed event goes (order-events.ts); none is published when unset. */
  orderEventsTopicArn: string | undefined;
  /**
   * Stop starting images when less than this is left of the invocation's time. Default: an image's
   * worst case (IMAGE_TIMEOUT_SECONDS, which bounds fetch + decode + store) plus 5 s to record it.
   */
  handbackMarginMs: number;
  /** Times a Transient image is re-queued before it is recorded as failed. */
  maxTransientRetries: number;
}

/** Reads the worker's configuration from the environment once, at cold start. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const e = readEnv(workerEnv, env);
  return {
    redis: redisSettings(e),
    ...thumbnailSettings(e),
    concurrency: e.CONCURRENCY,
    sliceTopicArn: e.SLICE_TOPIC_ARN,
    orderEventsTopicArn: e.ORDER_EVENTS_TOPIC_ARN,
    handbackMarginMs:
      (e.HANDBACK_MARGIN_SECONDS ?? defaultHandbackMarginSeconds(thumbnailSettings(e).imageTimeoutSeconds)) *
      1000,
    maxTransientRetries: e.MAX_TRANSIENT_RETRIES,
  };
}

export { defaultHandbackMarginSeconds };

export interface DeadLetterConfig {
  redis: RedisSettings;
  /** Where thumbnails go: a settled image's part-written thumbnails are removed. */
  thumbnails: { bucket: string; prefix: string };
  /** Where the order-thumbnails-completed event goes when settling a slice completes the order. */
  orderEventsTopicArn: string | undefined;
  s3ForcePathStyle: boolean;
}

/** The dead-letter consumer's configuration: Redis, the thumbnails' place and the order-events topic. */
export function loadDeadLetterConfig(env: Env = process.env): DeadLetterConfig {
  const e = readEnv(deadLetterEnv, env);
  return {
    redis: redisSettings(e),
    thumbnails: { bucket: e.THUMBNAIL_BUCKET, prefix: e.THUMBNAIL_PREFIX },
    orderEventsTopicArn: e.ORDER_EVENTS_TOPIC_ARN,
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
  };
}
