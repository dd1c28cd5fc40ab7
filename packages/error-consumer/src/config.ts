import { type Env, type RedisSettings, readEnv, redisEnvShape, redisSettings } from "@thumbs/core";
import { z } from "zod";

export interface ApiConfig {
  redis: RedisSettings;
  /** Bearer token the local server requires; on AWS the API is behind IAM auth instead. */
  apiToken: string | undefined;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const e = readEnv(
    {
      ...redisEnvShape,
      API_TOKEN: z.string().min(16, "expected at least 16 characters").optional(),
    },
    env,
  );
  return {
    redis: redisSettings(e),
    apiToken: e.API_TOKEN,
  };
}
