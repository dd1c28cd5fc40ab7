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

/**
 * Waits for a report of each of an order's `slices` slices: a worker reports a slice only after its last
 * outcome is recorded.
 */
export function slicesReported(stack: LocalStack, orderId: string, slices: number): Promise<void> {
  return vi.waitFor(
    () => {
      const reported = new Set(
        stack.workers.events
          .flatMap((e) => (e.type === "slices" ? e.reports : []))
          .filter((r) => r.orderId === orderId)
          .map((r) => r.sliceIndex),
      ).size;
      if (reported < slices) throw new Error(`${reported} of ${slices} slices of ${orderId} reported so far`);
    },
    { timeout: 30_000, interval: 20 },
  );
}
