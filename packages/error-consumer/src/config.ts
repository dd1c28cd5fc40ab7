import { DEFAULT_RECORD_TTL_SECONDS, type Env, envInt, envRedisUrl, readEnv } from "@thumbs/core";
import { z } from "zod";

export interface ApiConfig {
  redisUrl: string;
  redisKeyPrefix: string;
  recordTtlSeconds: number;
  /** Bearer token the local server requires; on AWS the API is behind IAM auth instead. */
  apiToken: string | undefined;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const e = readEnv(
    {
      REDIS_URL: envRedisUrl,
      REDIS_KEY_PREFIX: z.string().default("thumbs:"),
      RECORD_TTL_SECONDS: envInt(60, 90 * 24 * 3600).default(DEFAULT_RECORD_TTL_SECONDS),
      API_TOKEN: z.string().min(16, "expected at least 16 characters").optional(),
    },
    env,
  );
  return {
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    recordTtlSeconds: e.RECORD_TTL_SECONDS,
    apiToken: e.API_TOKEN,
  };
}
