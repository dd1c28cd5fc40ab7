import {
  adminApiEnv,
  type Env,
  type RedisSettings,
  readEnv,
  redisSettings,
  type ThumbnailSettings,
  thumbnailSettings,
} from "@thumbs/core";

// Where the API's deadlines come from (its contract in @thumbs/core): re-exported for its callers.
export {
  API_GATEWAY_TIMEOUT_SECONDS,
  DEFAULT_ON_DEMAND_TIMEOUT_SECONDS,
  DEFAULT_THUMBNAIL_URL_SECONDS,
} from "@thumbs/core";

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
  const e = readEnv(adminApiEnv, env);
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
