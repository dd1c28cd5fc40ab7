import { findOrStartRedis } from "@thumbs/local";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One real Redis for the whole run: REDIS_URL, else a redis-server on a free port, else a container. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await findOrStartRedis();
  project.provide("redisUrl", redis.url);
  return () => redis.stop();
}
