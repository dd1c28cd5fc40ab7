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
  };
}
