import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PublishCommand } from "@aws-sdk/client-sns";
import {
  awaitOrder,
  brokenSamples,
  type LocalStack,
  type LocalStackOptions,
  type RedisHandle,
  samplePhotos,
  startRedisServer,
  uploadOrder,
} from "@thumbs/local";
import type { SliceReport } from "@thumbs/worker";
import { afterEach, describe, expect, it } from "vitest";
import { expectNothingLost } from "./helpers/accounting.js";
import { capturePublishBatches } from "./helpers/capture.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

/** One order of `photos` small photos plus the broken samples, uploaded; returns its sorted keys. */
async function prepareOrder(
  stack: LocalStack,
  orderId: string,
  photos: number,
  seed: string,
): Promise<string[]> {
  const prefix = `orders/${orderId}/`;
  const keys = await uploadOrder(stack.emulator.clients.s3, stack.emulator.resources.sourceBucket, prefix, [
    ...(await samplePhotos(photos, { seed, megapixels: 0.15 })),
    ...(await brokenSamples()),
  ]);
  return keys.sort();
}

const reports = (stack: LocalStack): SliceReport[] =>
  stack.workers.events.flatMap((e) => (e.type === "slices" ? e.reports : []));

describe("nothing is lost under faults", () => {
  /** What each test started, undone after it in reverse order, whether it passed or failed. */
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => errors.push(error));
    }
    if (errors.length > 0) throw new AggregateError(errors, "Cleaning up after the test failed.");
  });

  const start = async (options: LocalStackOptions = {}) => {
    const stack = await testStack({ visibilityTimeoutSeconds: 2, sliceSize: 6, ...options });
    cleanups.push(() => stack.stop());
    return stack;
  };
  /** A temporary folder, removed after the test (after the processes started later have stopped). */
  const tempDir = async (label: string) => {
    const dir = await mkdtemp(join(tmpdir(), label));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  /** A Redis server of the test's own, stopped after the test. */
  const ownRedis = async (options: { persistDir?: string }): Promise<RedisHandle> => {
    const redis = await startRedisServer(options);
    cleanups.push(() => redis.stop());
    return redis;
  };
  const emit = (s: LocalStack, orderId: string, keys: string[], extra: object = {}) =>
    s.emitOrderCompleted({ orderId, bucket: s.emulator.resources.sourceBucket, keys, ...extra });

  it("survives a worker process killed mid-slice: the slice is redelivered and finished", async () => {
    // Prepare
    const s = await start();
    const orderId = uniqueOrderId("kill");
    const keys = await prepareOrder(s, orderId, 36, "kill");

    // Act: kill a worker (SIGKILL, as Lambda does at its timeout) once the batch is under way.
    await emit(s, orderId, keys);
    await expect
      .poll(async () => (await s.ledger.getProgress(orderId)).done, { interval: 20 })
      .toBeGreaterThan(3);
    await s.workers.killOne();
    await awaitOrder(s.ledger, orderId, { timeoutMs: 90_000 });

    // Assess
    await expectNothingLost(s, orderId, keys);
    expect(await s.ledger.getProgress(orderId)).toMatchObject({ done: 36, failed: 3 });
  });

  it("counts exactly when every slice is delivered twice and out of order", async () => {
    // Prepare
    const s = await start();
    const batches = capturePublishBatches(s.emulator.clients.sns);
    const orderId = uniqueOrderId("dup");
    const keys = await prepareOrder(s, orderId, 30, "dup");

    // Act: while the first deliveries run, deliver every slice again, last first.
    await emit(s, orderId, keys);
    const slices = batches.flat().map((e) => e.Message!);
    await Promise.all(
      slices
        .reverse()
        .map((Message) =>
          s.emulator.clients.sns.send(new PublishCommand({ TopicArn: s.emulator.topicArn, Message })),
        ),
    );
    await awaitOrder(s.ledger, orderId, { timeoutMs: 90_000 });
    await expect.poll(() => reports(s).length, { timeout: 30_000 }).toBe(slices.length * 2);

    // Assess
    await expectNothingLost(s, orderId, keys);
    expect(await s.ledger.getProgress(orderId)).toMatchObject({ done: 30, failed: 3 });
    expect(reports(s).filter((r) => r.completedOrder)).toHaveLength(1);
  });

  it("keeps progress and error records when Redis restarts mid-batch", async () => {
    // Prepare: a Redis of our own that persists every write (as a replicated ElastiCache would keep it).
    const redis = await ownRedis({ persistDir: await tempDir("thumbs-redis-") });
    const s = await start({ redis, keyPrefix: "restart:" });
    const orderId = uniqueOrderId("restart");
    const keys = await prepareOrder(s, orderId, 36, "restart");

    // Act
    await emit(s, orderId, keys);
    await expect
      .poll(async () => (await s.ledger.getProgress(orderId)).done, { interval: 20 })
      .toBeGreaterThan(5);
    await redis.restart!(1_000);
    await awaitOrder(s.ledger, orderId, { timeoutMs: 90_000 });

    // Assess
    await expectNothingLost(s, orderId, keys);
    expect(await s.ledger.getProgress(orderId)).toMatchObject({ done: 36, failed: 3 });
  });

  it("rides out S3 throttling: the SDK retries, Transient images are re-queued, none is lost", async () => {
    // Prepare: half of the workers' S3 object reads and writes answer 503 SlowDown.
    const s = await start({ faults: { s3FailureRate: 0.5, seed: "throttle" } });
    const orderId = uniqueOrderId("throttle");
    const keys = await prepareOrder(s, orderId, 24, "throttle");

    // Act
    await emit(s, orderId, keys);
    await awaitOrder(s.ledger, orderId, { timeoutMs: 120_000 });

    // Assess
    await expectNothingLost(s, orderId, keys);
    expect(s.faultProxy!.stats.failed).toBeGreaterThan(20);
    expect(reports(s).some((r) => r.deferred > 0 && r.attempt === 0)).toBe(true);
    const classes = (await s.ledger.failedRecords(orderId)).map((r) => r.class);
    expect(classes.filter((c) => c !== "Transient").sort()).toEqual(["Corrupt", "Corrupt", "Unsupported"]);
  });

  it("hands the unfinished rest of a slice back through SNS when the time limit nears", async () => {
    // Prepare: invocations that are always inside the hand-back margin: each starts one image, hands back the rest.
    const s = await start({
      sliceSize: 30,
      functionTimeoutMs: 5_000,
      workerEnv: { HANDBACK_MARGIN_SECONDS: "10" },
    });
    const orderId = uniqueOrderId("handback");
    const keys = await prepareOrder(s, orderId, 30, "handback");

    // Act
    await emit(s, orderId, keys);
    await awaitOrder(s.ledger, orderId, { timeoutMs: 120_000 });

    // Assess
    await expectNothingLost(s, orderId, keys);
    const handedBack = reports(s).filter((r) => r.handedBack > 0);
    expect(handedBack.length).toBeGreaterThan(10);
    expect(handedBack.every((r) => r.done + r.failed >= 1)).toBe(true);
  });

  it("marks an order failed early when its failures pass the threshold, and says why", async () => {
    // Prepare: 6 photos and 3 broken files, with a 20% failure threshold.
    const s = await start({ workers: 1, sliceSize: 1 });
    const orderId = uniqueOrderId("threshold");
    const keys = await prepareOrder(s, orderId, 6, "threshold");

    // Act
    await emit(s, orderId, keys, { failureThresholdPercent: 20 });
    const failedEarly = await expect
      .poll(async () => (await s.ledger.getProgress(orderId)).status, { interval: 10, timeout: 60_000 })
      .toBe("failed")
      .then(() => s.ledger.getProgress(orderId));
    await awaitOrder(s.ledger, orderId, { timeoutMs: 60_000 });

    // Assess
    expect(failedEarly.failureReason).toMatch(
      /2 of 9 images failed \(22\.2%\), over the order failure threshold of 20%/,
    );
    expect(failedEarly.complete).toBe(false);
    expect(await s.ledger.getProgress(orderId)).toMatchObject({ status: "failed", failed: 3, done: 6 });
    await expectNothingLost(s, orderId, keys);
  });

  it("tells the backend even when the completion event cannot be published at first", async () => {
    // Prepare: the order-events topic is gone for now, so the slice that completes the order (one
    // slice, broken images included) fails to announce and is redelivered.
    const s = await start({ workers: 1, sliceSize: 50 });
    const { orderEventsTopicName: topic, orderEventsQueueName: queue } = s.emulator.resources;
    s.emulator.server.deleteTopic(topic);
    const orderId = uniqueOrderId("late-event");
    const keys = await prepareOrder(s, orderId, 4, "late-event");

    // Act
    await emit(s, orderId, keys);
    await awaitOrder(s.ledger, orderId, { timeoutMs: 60_000 });
    await expect
      .poll(() => s.workers.events.some((e) => e.type === "slice-failed"), { timeout: 30_000 })
      .toBe(true);
    s.emulator.server.createTopic(topic);
    s.emulator.server.subscribe({ topic, queue, attributes: { RawMessageDelivery: "true" } });

    // Assess: the redelivery (images all done or failed already) publishes it, with the final counts.
    expect(await s.orderEvents.waitFor(orderId, 30_000)).toMatchObject({
      orderId,
      status: "completed_with_errors",
      total: keys.length,
      done: 4,
      failed: 3,
    });
    // The worker reports its slice after SNS took the event: wait for that report too.
    await expect.poll(() => reports(s).filter((r) => r.announcedOrder).length).toBe(1);
  });
});
