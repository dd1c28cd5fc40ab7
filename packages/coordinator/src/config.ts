import {
  DEFAULT_MAX_EVENT_KEYS,
  DEFAULT_MAX_SLICES,
  DEFAULT_OUTPUT,
  DEFAULT_RECORD_TTL_SECONDS,
  DEFAULT_SLICE_SIZE,
  type Env,
  envBool,
  envInt,
  envList,
  envRedisUrl,
  envSizes,
  OutputFormatSchema,
  type OutputSpec,
  readEnv,
} from "@thumbs/core";
import { z } from "zod";

export interface CoordinatorConfig {
  redisUrl: string;
  redisKeyPrefix: string;
  recordTtlSeconds: number;
  sliceTopicArn: string;
  sliceSize: number;
  maxSlices: number;
  maxEventKeys: number;
  /** Empty = any bucket the coordinator's IAM role can read. */
  allowedSourceBuckets: string[];
  defaultOutput: OutputSpec;
  s3ForcePathStyle: boolean;
}

/** Reads the coordinator's configuration from the environment once, at cold start. */
export function loadCoordinatorConfig(env: Env = process.env): CoordinatorConfig {
  const e = readEnv(
    {
      REDIS_URL: envRedisUrl,
      REDIS_KEY_PREFIX: z.string().default("thumbs:"),
      RECORD_TTL_SECONDS: envInt(60, 90 * 24 * 3600).default(DEFAULT_RECORD_TTL_SECONDS),
      SLICE_TOPIC_ARN: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:/, "expected an SNS topic ARN")
        .describe("the ARN of the SNS topic slices are published to"),
      SLICE_SIZE: envInt(1, 10_000).default(DEFAULT_SLICE_SIZE),
      MAX_SLICES: envInt(1, 100_000).default(DEFAULT_MAX_SLICES),
      MAX_EVENT_KEYS: envInt(1, 100_000).default(DEFAULT_MAX_EVENT_KEYS),
      ALLOWED_SOURCE_BUCKETS: envList.default([]),
      THUMBNAIL_SIZES: envSizes.optional(),
      THUMBNAIL_FORMAT: OutputFormatSchema.optional(),
      THUMBNAIL_QUALITY: envInt(1, 100).optional(),
      S3_FORCE_PATH_STYLE: envBool.default(false),
    },
    env,
  );
  return {
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    recordTtlSeconds: e.RECORD_TTL_SECONDS,
    sliceTopicArn: e.SLICE_TOPIC_ARN,
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
  };
}
