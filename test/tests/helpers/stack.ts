import { randomUUID } from "node:crypto";
import { createRedis } from "@thumbs/core";
import { type LocalStack, type LocalStackOptions, type RedisHandle, startLocalStack } from "@thumbs/local";
import type { Redis } from "ioredis";
import { inject } from "vitest";

/** The run's shared Redis, as a handle the local stack will not stop. */
export const sharedRedis = (): RedisHandle => ({
  url: inject("redisUrl"),
  source: "REDIS_URL",
  stop: async () => {},
});

/** A local pipeline on the shared Redis, with a key prefix of its own so tests never see each other's keys. */
export function testStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    workers: 2,
    redis: sharedRedis(),
    keyPrefix: `test:${randomUUID().slice(0, 8)}:`,
    ...options,
  });
}

export const testRedis = (): Redis => createRedis(inject("redisUrl"));

export const uniqueOrderId = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
