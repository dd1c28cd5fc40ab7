import { z } from "zod";
import {
  DEFAULT_IMAGE_TIMEOUT_SECONDS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_INPUT_PIXELS,
  DEFAULT_RECORD_TTL_SECONDS,
} from "./constants.js";
import { type ThumbnailSize, ThumbnailSizeSchema } from "./contracts.js";
import { ConfigError } from "./errors.js";

export type Env = Record<string, string | undefined>;

/**
 * Reads and validates environment variables once. `shape` maps each variable name to its schema;
 * a missing or malformed variable throws a ConfigError naming it, what was expected and what was found.
 */
export function readEnv<T extends Record<string, z.ZodType>>(
  shape: T,
  env: Env = process.env,
): { [K in keyof T]: z.output<T[K]> } {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const raw = env[name] === "" ? undefined : env[name];
    const result = schema.safeParse(raw);
    if (result.success) {
      out[name] = result.data;
      continue;
    }
    const expected = schema.description ? ` (${schema.description})` : "";
    const detail = result.error.issues.map((i) => i.message).join("; ");
    problems.push(
      raw === undefined
        ? `Environment variable ${name} is required${expected}.`
        : `Environment variable ${name} is invalid: ${detail}${expected}; received ${JSON.stringify(raw)}.`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return out as { [K in keyof T]: z.output<T[K]> };
}

/** Schemas for typical variable kinds. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const envBool = z
  .enum(["true", "false", "1", "0"], { message: "expected true or false" })
  .transform((v) => v === "true" || v === "1");

export const envList = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

/** `large:1024x1024,small:256x256` → sizes. */
export const envSizes = z.string().transform((v, ctx): ThumbnailSize[] => {
  const sizes: ThumbnailSize[] = [];
  for (const part of v.split(",").map((s) => s.trim())) {
    const m = /^([a-z0-9-]+):(\d+)x(\d+)$/.exec(part);
    const parsed = m
      ? ThumbnailSizeSchema.safeParse({ name: m[1], width: Number(m[2]), height: Number(m[3]) })
      : null;
    if (!parsed?.success) {
      ctx.addIssue({ code: "custom", message: `expected name:WIDTHxHEIGHT, got "${part}"` });
      return z.NEVER;
    }
    sizes.push(parsed.data);
  }
  return sizes;
});

const envRedisUrl = z
  .string()
  .regex(/^rediss?:\/\/.+/, "expected a redis:// or rediss:// URL")
  .describe("the Redis (ElastiCache) URL, e.g. rediss://master.example.cache.amazonaws.com:6379");

/** The Redis settings every part shares: where it is, how keys are named, how long records live. */
export interface RedisSettings {
  url: string;
  authSecretArn: string | undefined;
  keyPrefix: string;
  ttlSeconds: number;
}

export const redisEnvShape = {
  REDIS_URL: envRedisUrl,
  REDIS_AUTH_SECRET_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:/, "expected a Secrets Manager secret ARN")
    .optional()
    .describe("the secret holding the ElastiCache AUTH token"),
  REDIS_KEY_PREFIX: z.string().default(DEFAULT_KEY_PREFIX).describe("prefix of every Redis key"),
  RECORD_TTL_SECONDS: envInt(60, 90 * 24 * 3600)
    .default(DEFAULT_RECORD_TTL_SECONDS)
    .describe("how long an order's records live in Redis"),
};

export const redisSettings = (e: {
  REDIS_URL: string;
  REDIS_AUTH_SECRET_ARN?: string | undefined;
  REDIS_KEY_PREFIX: string;
  RECORD_TTL_SECONDS: number;
}): RedisSettings => ({
  url: e.REDIS_URL,
  authSecretArn: e.REDIS_AUTH_SECRET_ARN,
  keyPrefix: e.REDIS_KEY_PREFIX,
  ttlSeconds: e.RECORD_TTL_SECONDS,
});

export const envSnsTopicArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:sns:/, "expected an SNS topic ARN")
  .describe("the ARN of the SNS topic slices are published to");

/** Where thumbnails go and the limits one image is made within: the worker's and the admin API's. */
export interface ThumbnailSettings {
  thumbnailBucket: string;
  thumbnailPrefix: string;
  maxInputBytes: number;
  maxInputPixels: number;
  imageTimeoutSeconds: number;
  s3ForcePathStyle: boolean;
}

export const thumbnailEnvShape = {
  THUMBNAIL_BUCKET: z.string().min(3).describe("the bucket thumbnails are written to"),
  THUMBNAIL_PREFIX: z.string().default("").describe("key prefix of every thumbnail"),
  MAX_INPUT_BYTES: envInt(1, 1024 * 1024 * 1024)
    .default(DEFAULT_MAX_INPUT_BYTES)
    .describe("largest original, in bytes: larger ones are TooLarge"),
  MAX_INPUT_PIXELS: envInt(1, 2_000_000_000)
    .default(DEFAULT_MAX_INPUT_PIXELS)
    .describe("most pixels of an original: more are TooLarge"),
  IMAGE_TIMEOUT_SECONDS: envInt(1, 900)
    .default(DEFAULT_IMAGE_TIMEOUT_SECONDS)
    .describe("one image's whole deadline: fetch, decode, store"),
  S3_FORCE_PATH_STYLE: envBool
    .default(false)
    .describe("path-style S3 requests (emulators without bucket host names)"),
};

export const thumbnailSettings = (e: {
  THUMBNAIL_BUCKET: string;
  THUMBNAIL_PREFIX: string;
  MAX_INPUT_BYTES: number;
  MAX_INPUT_PIXELS: number;
  IMAGE_TIMEOUT_SECONDS: number;
  S3_FORCE_PATH_STYLE: boolean;
}): ThumbnailSettings => ({
  thumbnailBucket: e.THUMBNAIL_BUCKET,
  thumbnailPrefix: e.THUMBNAIL_PREFIX,
  maxInputBytes: e.MAX_INPUT_BYTES,
  maxInputPixels: e.MAX_INPUT_PIXELS,
  imageTimeoutSeconds: e.IMAGE_TIMEOUT_SECONDS,
  s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
});
