import { z } from "zod";
import { envInt, envList, envSizes, envSnsTopicArn, redisEnvShape, thumbnailEnvShape } from "./config.js";
import {
  DEFAULT_MAX_EVENT_KEYS,
  DEFAULT_MAX_SLICES,
  DEFAULT_ON_DEMAND_TIMEOUT_SECONDS,
  DEFAULT_SLICE_SIZE,
  DEFAULT_THUMBNAIL_URL_SECONDS,
  DEFAULT_TRANSIENT_RETRIES,
} from "./constants.js";
import { OutputFormatSchema } from "./contracts.js";

/**
 * Each function's environment contract: every variable it reads, with its parsing, default and meaning
 * (`describe`), in one place. The function's `config.ts` reads it (`readEnv`), infra and the local
 * runtime write it (`environment`), so a renamed or removed variable breaks their build, not a
 * deployment. Variables the runtime reads itself (NODE_OPTIONS, POWERTOOLS_*) are not part of it.
 */
export type EnvShape = Record<string, z.ZodType>;

const sliceTopic = envSnsTopicArn.describe("the SNS topic slices are published to");
const orderEventsTopic = envSnsTopicArn
  .optional()
  .describe("the SNS topic order-thumbnails-completed/-updated events go to; none are sent when unset");
const sliceSize = envInt(1, 10_000).default(DEFAULT_SLICE_SIZE).describe("images per slice");

export const coordinatorEnv = {
  ...redisEnvShape,
  SLICE_TOPIC_ARN: sliceTopic,
  ORDER_EVENTS_TOPIC_ARN: orderEventsTopic,
  SLICE_SIZE: sliceSize,
  MAX_SLICES: envInt(1, 100_000)
    .default(DEFAULT_MAX_SLICES)
    .describe("most slices per order: the slice size grows past SLICE_SIZE to respect it"),
  MAX_EVENT_KEYS: envInt(1, 100_000)
    .default(DEFAULT_MAX_EVENT_KEYS)
    .describe("most keys an event may list explicitly (a manifest has no such limit)"),
  ALLOWED_SOURCE_BUCKETS: envList
    .default([])
    .describe("comma-separated buckets orders may name; empty: any the role can read"),
  THUMBNAIL_SIZES: envSizes.optional().describe("default sizes, e.g. large:1024x1024,small:256x256"),
  THUMBNAIL_FORMAT: OutputFormatSchema.optional().describe("default format: jpeg or webp"),
  THUMBNAIL_QUALITY: envInt(1, 100).optional().describe("default quality, 1-100"),
  S3_FORCE_PATH_STYLE: thumbnailEnvShape.S3_FORCE_PATH_STYLE,
  FAILURE_THRESHOLD_PERCENT: envInt(0, 100)
    .default(0)
    .describe("an order is failed once more than this percentage of its images failed; 0: never"),
} satisfies EnvShape;

export const workerEnv = {
  ...redisEnvShape,
  ...thumbnailEnvShape,
  CONCURRENCY: envInt(1, 64)
    .optional()
    .describe("images in flight per invocation; unset: derived from the memory's CPU share"),
  SLICE_TOPIC_ARN: sliceTopic.describe("where hand-backs and Transient re-queues go"),
  ORDER_EVENTS_TOPIC_ARN: orderEventsTopic,
  HANDBACK_MARGIN_SECONDS: envInt(1, 900)
    .optional()
    .describe("stop starting images when less is left; unset: IMAGE_TIMEOUT_SECONDS + 5"),
  MAX_TRANSIENT_RETRIES: envInt(0, 10)
    .default(DEFAULT_TRANSIENT_RETRIES)
    .describe("times a Transient image is re-queued before it is recorded failed"),
  // Read by libuv, once, before any code runs: documented here so deployments set it through the contract.
  UV_THREADPOOL_SIZE: envInt(1, 1024)
    .optional()
    .describe("libuv's pool, which caps sharp pipelines at once: threadpoolSize() of the images in flight"),
} satisfies EnvShape;

export const deadLetterEnv = {
  ...redisEnvShape,
  THUMBNAIL_BUCKET: thumbnailEnvShape.THUMBNAIL_BUCKET,
  THUMBNAIL_PREFIX: thumbnailEnvShape.THUMBNAIL_PREFIX,
  ORDER_EVENTS_TOPIC_ARN: orderEventsTopic,
  S3_FORCE_PATH_STYLE: thumbnailEnvShape.S3_FORCE_PATH_STYLE,
} satisfies EnvShape;

/** API Gateway's integration limit: the admin API must answer within it. */
export const API_GATEWAY_TIMEOUT_SECONDS = 30;

export const adminApiEnv = {
  ...redisEnvShape,
  ...thumbnailEnvShape,
  API_TOKEN: z
    .string()
    .min(16, "expected at least 16 characters")
    .optional()
    .describe("bearer token the local admin server requires; on AWS, IAM authorizes instead"),
  SLICE_TOPIC_ARN: sliceTopic.describe("where retries are published"),
  ORDER_EVENTS_TOPIC_ARN: orderEventsTopic,
  SLICE_SIZE: sliceSize,
  // Must leave the function time to answer before API Gateway's 30 s: at most 25.
  ON_DEMAND_TIMEOUT_SECONDS: envInt(1, API_GATEWAY_TIMEOUT_SECONDS - 5)
    .default(DEFAULT_ON_DEMAND_TIMEOUT_SECONDS)
    .describe("whole deadline of a thumbnail made on demand (fetch, decode, store)"),
  // SigV4 presigned URLs live at most 7 days; an admin page needs minutes.
  THUMBNAIL_URL_SECONDS: envInt(0, 12 * 3600)
    .default(DEFAULT_THUMBNAIL_URL_SECONDS)
    .describe("lifetime of listed thumbnails' presigned URLs; 0: none, every thumbnail via the API"),
} satisfies EnvShape;

/** Variables a deployment must set (no default, not optional). */
type RequiredKeys<S extends EnvShape> = {
  [K in keyof S]: undefined extends z.input<S[K]> ? never : K;
}[keyof S];

/** The environment a deployment gives a function with contract `S`: strings, the required ones required. */
export type EnvironmentOf<S extends EnvShape> = { [K in RequiredKeys<S>]: string } & {
  [K in Exclude<keyof S, RequiredKeys<S>>]?: string | undefined;
};

/**
 * The environment variables for a function, typed against its contract: a variable the contract does
 * not name is a type error, and unset options are left out (the function then uses its default).
 */
export function environment<S extends EnvShape>(
  _contract: S,
  values: EnvironmentOf<S>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
