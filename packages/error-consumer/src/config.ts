import {
  DEFAULT_SLICE_SIZE,
  type Env,
  envInt,
  envSnsTopicArn,
  type RedisSettings,
  readEnv,
  redisEnvShape,
  redisSettings,
  type ThumbnailSettings,
  thumbnailEnvShape,
  thumbnailSettings,
} from "@thumbs/core";
import { z } from "zod";

/**
 * API Gateway's integration limit: past it the caller gets a bare 503 whatever the function does, so the
 * function's own timeout (infra: 25 s) and the on-demand deadline below stay under it.
 */
export const API_GATEWAY_TIMEOUT_SECONDS = 30;
/** The on-demand thumbnail's whole deadline (fetch, decode, store), unless IMAGE_TIMEOUT_SECONDS is less. */
export const DEFAULT_ON_DEMAND_TIMEOUT_SECONDS = 20;
/** How long the presigned thumbnail URLs of an image listing stay valid. */
export const DEFAULT_THUMBNAIL_URL_SECONDS = 600;

/** The thumbnail settings serve thumbnails made on demand, within the worker's limits. */
export interface ApiConfig extends ThumbnailSettings {
  redis: RedisSettings;
  /** Bearer token the local server requires; on AWS the API is behind IAM auth instead. */
  apiToken: string | undefined;
  /** Retries are published here, as the coordinator publishes slices. */
  sliceTopicArn: string;
  sliceSize: number;
  /**
   * Where a complete order's `order-thumbnails-updated` event goes when a thumbnail made on demand
   * moves an image from failed to done; none is sent when unset.
   */
  orderEventsTopicArn: string | undefined;
  /**
   * Deadline of a thumbnail made on demand, whole (fetch, decode, store); the decode gets what is left
   * of it. Below the function's timeout, so a slow image is answered with its class rather than cut
   * off by API Gateway. The effective deadline is the lesser of this and `imageTimeoutSeconds`.
   */
  onDemandTimeoutSeconds: number;
  /**
   * Lifetime of the presigned S3 GET URL each listed thumbnail gets (`presignedUrl`), so browsers load
   * stored thumbnails straight from S3 with no API call per tile. 0: list no presigned URLs (every
   * thumbnail is then served through the API).
   */
  thumbnailUrlSeconds: number;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const e = readEnv(
    {
      ...redisEnvShape,
      ...thumbnailEnvShape,
      API_TOKEN: z.string().min(16, "expected at least 16 characters").optional(),
      SLICE_TOPIC_ARN: envSnsTopicArn,
      ORDER_EVENTS_TOPIC_ARN: envSnsTopicArn.optional(),
      SLICE_SIZE: envInt(1, 10_000).default(DEFAULT_SLICE_SIZE),
      // Must leave the function time to answer before API Gateway's 30 s: at most 25.
      ON_DEMAND_TIMEOUT_SECONDS: envInt(1, API_GATEWAY_TIMEOUT_SECONDS - 5).default(
        DEFAULT_ON_DEMAND_TIMEOUT_SECONDS,
      ),
      // SigV4 presigned URLs live at most 7 days; an admin page needs minutes.
      THUMBNAIL_URL_SECONDS: envInt(0, 12 * 3600).default(DEFAULT_THUMBNAIL_URL_SECONDS),
    },
    env,
  );
  return {
    redis: redisSettings(e),
    ...thumbnailSettings(e),
    apiToken: e.API_TOKEN,
    sliceTopicArn: e.SLICE_TOPIC_ARN,
    orderEventsTopicArn: e.ORDER_EVENTS_TOPIC_ARN,
    sliceSize: e.SLICE_SIZE,
    onDemandTimeoutSeconds: e.ON_DEMAND_TIMEOUT_SECONDS,
    thumbnailUrlSeconds: e.THUMBNAIL_URL_SECONDS,
  };
}
