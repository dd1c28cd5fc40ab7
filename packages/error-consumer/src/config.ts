import {
  DEFAULT_IMAGE_TIMEOUT_SECONDS,
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_INPUT_PIXELS,
  DEFAULT_SLICE_SIZE,
  type Env,
  envBool,
  envInt,
  type RedisSettings,
  readEnv,
  redisEnvShape,
  redisSettings,
} from "@thumbs/core";
import { z } from "zod";

export interface ApiConfig {
  redis: RedisSettings;
  /** Bearer token the local server requires; on AWS the API is behind IAM auth instead. */
  apiToken: string | undefined;
  /** Retries are published here, as the coordinator publishes slices. */
  sliceTopicArn: string;
  sliceSize: number;
  thumbnailBucket: string;
  thumbnailPrefix: string;
  /** Limits for thumbnails made on demand (the same as the worker's). */
  maxInputBytes: number;
  maxInputPixels: number;
  imageTimeoutSeconds: number;
  s3ForcePathStyle: boolean;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const e = readEnv(
    {
      ...redisEnvShape,
      API_TOKEN: z.string().min(16, "expected at least 16 characters").optional(),
      SLICE_TOPIC_ARN: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:/, "expected an SNS topic ARN")
        .describe("the slice topic retries are published to"),
      SLICE_SIZE: envInt(1, 10_000).default(DEFAULT_SLICE_SIZE),
      THUMBNAIL_BUCKET: z.string().min(3).describe("the bucket thumbnails are read from and written to"),
      THUMBNAIL_PREFIX: z.string().default(""),
      MAX_INPUT_BYTES: envInt(1, 1024 * 1024 * 1024).default(DEFAULT_MAX_INPUT_BYTES),
      MAX_INPUT_PIXELS: envInt(1, 2_000_000_000).default(DEFAULT_MAX_INPUT_PIXELS),
      IMAGE_TIMEOUT_SECONDS: envInt(1, 900).default(DEFAULT_IMAGE_TIMEOUT_SECONDS),
      S3_FORCE_PATH_STYLE: envBool.default(false),
    },
    env,
  );
  return {
    redis: redisSettings(e),
    apiToken: e.API_TOKEN,
    sliceTopicArn: e.SLICE_TOPIC_ARN,
    sliceSize: e.SLICE_SIZE,
    thumbnailBucket: e.THUMBNAIL_BUCKET,
    thumbnailPrefix: e.THUMBNAIL_PREFIX,
    maxInputBytes: e.MAX_INPUT_BYTES,
    maxInputPixels: e.MAX_INPUT_PIXELS,
    imageTimeoutSeconds: e.IMAGE_TIMEOUT_SECONDS,
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
  };
}
