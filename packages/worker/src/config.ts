import {
  DEFAULT_IMAGE_TIMEOUT_SECONDS,
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_INPUT_PIXELS,
  type Env,
  envBool,
  envInt,
  type RedisSettings,
  readEnv,
  redisEnvShape,
  redisSettings,
} from "@thumbs/core";
import { z } from "zod";

export interface WorkerConfig {
  redis: RedisSettings;
  thumbnailBucket: string;
  thumbnailPrefix: string;
  /** Images resized at once in this process; undefined = derived from the CPU share (see concurrency.ts). */
  concurrency: number | undefined;
  maxInputBytes: number;
  maxInputPixels: number;
  imageTimeoutSeconds: number;
  s3ForcePathStyle: boolean;
  /** Where the worker hands back images it could not finish in time, and re-queues Transient ones. */
  sliceTopicArn: string;
  /** Stop starting images when less than this is left of the invocation's time. */
  handbackMarginMs: number;
  /** Times a Transient image is re-queued before it is recorded as failed. */
  maxTransientRetries: number;
}

/** Reads the worker's configuration from the environment once, at cold start. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const e = readEnv(
    {
      ...redisEnvShape,
      THUMBNAIL_BUCKET: z.string().min(3).describe("the bucket thumbnails are written to"),
      THUMBNAIL_PREFIX: z.string().default(""),
      CONCURRENCY: envInt(1, 64).optional(),
      MAX_INPUT_BYTES: envInt(1, 1024 * 1024 * 1024).default(DEFAULT_MAX_INPUT_BYTES),
      MAX_INPUT_PIXELS: envInt(1, 2_000_000_000).default(DEFAULT_MAX_INPUT_PIXELS),
      IMAGE_TIMEOUT_SECONDS: envInt(1, 900).default(DEFAULT_IMAGE_TIMEOUT_SECONDS),
      S3_FORCE_PATH_STYLE: envBool.default(false),
      SLICE_TOPIC_ARN: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:/, "expected an SNS topic ARN")
        .describe("the slice topic, for handing back unfinished images and re-queueing Transient ones"),
      HANDBACK_MARGIN_SECONDS: envInt(1, 900).default(10),
      MAX_TRANSIENT_RETRIES: envInt(0, 10).default(3),
    },
    env,
  );
  return {
    redis: redisSettings(e),
    thumbnailBucket: e.THUMBNAIL_BUCKET,
    thumbnailPrefix: e.THUMBNAIL_PREFIX,
    concurrency: e.CONCURRENCY,
    maxInputBytes: e.MAX_INPUT_BYTES,
    maxInputPixels: e.MAX_INPUT_PIXELS,
    imageTimeoutSeconds: e.IMAGE_TIMEOUT_SECONDS,
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
    sliceTopicArn: e.SLICE_TOPIC_ARN,
    handbackMarginMs: e.HANDBACK_MARGIN_SECONDS * 1000,
    maxTransientRetries: e.MAX_TRANSIENT_RETRIES,
  };
}
