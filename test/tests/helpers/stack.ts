import { randomUUID } from "node:crypto";
import { createRedis } from "@thumbs/core";
import { type LocalStack, type LocalStackOptions, type RedisHandle, startLocalStack } from "@thumbs/local";
import type { Redis } from "ioredis";
import { inject, vi } from "vitest";

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

/** Waits for the workers' slice reports: a worker reports a slice only after its last outcome is recorded. */
export function slicesReported(stack: LocalStack, count: number): Promise<void> {
  return vi.waitFor(
    () => {
      const reported = stack.workers.events.filter((e) => e.type === "slices").length;
      if (reported < count) throw new Error(`${reported} of ${count} slice reports so far`);
    },
    { timeout: 30_000, interval: 20 },
  );
}
