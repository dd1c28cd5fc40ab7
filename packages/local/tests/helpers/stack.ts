import { randomUUID } from "node:crypto";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll } from "vitest";
import { uploadOrder } from "../../src/order-io.js";
import { findOrStartRedis, type RedisHandle } from "../../src/redis.js";
import { samplePhotos } from "../../src/sample-images.js";
import type { LocalStack } from "../../src/stack.js";

/** One Redis for the file (REDIS_URL, else a redis-server of its own); stacks keep to their own key prefix. */
export function useRedis(): () => RedisHandle {
  let handle: RedisHandle | undefined;
  beforeAll(async () => {
    handle = await findOrStartRedis();
  });
  afterAll(() => handle?.stop());
  return () => {
    if (!handle) throw new Error("useRedis(): the Redis is only available inside tests and hooks.");
    return handle;
  };
}

export const uniqueOrderId = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

/** Uploads `photos` small photos (plus `extra` files) for an order; returns its keys sorted, in plan order. */
export async function uploadPhotos(
  stack: LocalStack,
  orderId: string,
  photos: number,
  extra: { name: string; data: Buffer }[] = [],
): Promise<string[]> {
  const uploads = [...(await samplePhotos(photos, { seed: orderId, megapixels: 0.1 })), ...extra];
  const { s3 } = stack.emulator.clients;
  const keys = await uploadOrder(s3, stack.emulator.resources.sourceBucket, `orders/${orderId}/`, uploads);
  return keys.sort();
}

/** Plans an order the way the backend's order-completed event does. */
export const emit = (stack: LocalStack, orderId: string, keys: string[]) =>
  stack.emitOrderCompleted({ orderId, bucket: stack.emulator.resources.sourceBucket, keys });

/** Messages on a queue, visible or in flight. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
