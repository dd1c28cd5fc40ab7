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

/** The thumbnail settings serve thumbnails made on demand, within the worker's limits. */
export interface ApiConfig extends ThumbnailSettings {
  redis: RedisSettings;
  /** Bearer token the local server requires; on AWS the API is behind IAM auth instead. */
  apiToken: string | undefined;
  /** Retries are published here, as the coordinator publishes slices. */
  sliceTopicArn: string;
  sliceSize: number;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const e = readEnv(
    {
      ...redisEnvShape,
      ...thumbnailEnvShape,
      API_TOKEN: z.string().min(16, "expected at least 16 characters").optional(),
      SLICE_TOPIC_ARN: envSnsTopicArn,
      SLICE_SIZE: envInt(1, 10_000).default(DEFAULT_SLICE_SIZE),
    },
    env,
  );
  return {
    redis: redisSettings(e),
    ...thumbnailSettings(e),
    apiToken: e.API_TOKEN,
    sliceTopicArn: e.SLICE_TOPIC_ARN,
    sliceSize: e.SLICE_SIZE,
  };
}
