import {
  coordinatorEnv,
  DEFAULT_OUTPUT,
  type Env,
  type OutputSpec,
  type RedisSettings,
  readEnv,
  redisSettings,
} from "@thumbs/core";

export interface CoordinatorConfig {
  redis: RedisSettings;
  sliceTopicArn: string;
  /** Where an empty order's order-thumbnails-completed event goes (workers send all others). */
  orderEventsTopicArn: string | undefined;
  sliceSize: number;
  maxSlices: number;
  maxEventKeys: number;
  /** Empty = any bucket the coordinator's IAM role can read. */
  allowedSourceBuckets: string[];
  defaultOutput: OutputSpec;
  /** Orders are marked failed once more than this percentage of their images failed; 0 = never. */
  failureThresholdPercent: number;
  s3ForcePathStyle: boolean;
}

/** Reads the coordinator's configuration from the environment once, at cold start. */
export function loadCoordinatorConfig(env: Env = process.env): CoordinatorConfig {
  const e = readEnv(coordinatorEnv, env);
  return {
    redis: redisSettings(e),
    sliceTopicArn: e.SLICE_TOPIC_ARN,
    orderEventsTopicArn: e.ORDER_EVENTS_TOPIC_ARN,
    sliceSize: e.SLICE_SIZE,
    maxSlices: e.MAX_SLICES,
    maxEventKeys: e.MAX_EVENT_KEYS,
    allowedSourceBuckets: e.ALLOWED_SOURCE_BUCKETS,
    defaultOutput: {
      sizes: e.THUMBNAIL_SIZES ?? DEFAULT_OUTPUT.sizes,
      format: e.THUMBNAIL_FORMAT ?? DEFAULT_OUTPUT.format,
      quality: e.THUMBNAIL_QUALITY ?? DEFAULT_OUTPUT.quality,
    },
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
    failureThresholdPercent: e.FAILURE_THRESHOLD_PERCENT,
  };
}
