import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { PublishBatchCommand } from "@aws-sdk/client-sns";
import { awaitOrder, type LocalStack, samplePhotos, uploadOrder } from "@thumbs/local";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditOrder } from "./helpers/audit.js";
import { holdSlices } from "./helpers/hold.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

/**
 * Fault schedules drawn by fast-check over small orders, run against the real local stack (fauxqs, a real
 * Redis, real worker processes), each judged by the audit (helpers/audit.ts), which reads S3 and Redis
 * directly. `THUMBS_SCHEDULES=50` runs more; a failure prints its seed, and `THUMBS_SCHEDULE_SEED=<seed>`
 * replays it.
 */
const RUNS = Number(process.env.THUMBS_SCHEDULES ?? 5);
const SEED = process.env.THUMBS_SCHEDULE_SEED ? Number(process.env.THUMBS_SCHEDULE_SEED) : undefined;

// Camera-style names: case, spaces, accents (composed and decomposed), brackets, upper-case extensions.
const stem = fc.constantFrom(
  "IMG_",
  "img ",
  "DSC",
  "Été ",
  "e\u0301te\u0301-",
  "Photo (",
  "B-",
  "a-",
  "ÆØÅ_",
  "照片",
);
const extension = fc.constantFrom(".jpg", ".JPG", ".jpeg", ".Jpg");
const name = fc.tuple(stem, fc.integer({ min: 0, max: 9999 }), extension).map(([s, n, e]) => `${s}${n}${e}`);

const schedule = fc.record({
  names: fc.uniqueArray(name, { minLength: 3, maxLength: 9 }),
  source: fc.constantFrom("prefix", "keys"),
  lateUpload: fc.boolean(),
  deleteOne: fc.boolean(),
  duplicateDeliveries: fc.boolean(),
  repeatEvent: fc.constantFrom("none", "same", "conflicting"),
  killWorker: fc.boolean(),
  s3FailureRate: fc.constantFrom(0, 0, 0.15),
  stallOne: fc.boolean(),
  poison: fc.boolean(),
  eventsTopicDown: fc.boolean(),
});
type Schedule = typeof schedule extends fc.Arbitrary<infer T> ? T : never;

describe("fault schedules: nothing lost, nothing counted that did not happen", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await testStack({
      sliceSize: 3,
      visibilityTimeoutSeconds: 3,
      faults: { s3FailureRate: 0, seed: "schedules" },
      // The poison marker kills the worker process that fetches it (local fault injection only); images
      // get a 3 s deadline so a stalled S3 ends quickly; Transient images are tried twice.
      workerEnv: { LOCAL_FAULT_CRASH_ON: "POISON", IMAGE_TIMEOUT_SECONDS: "3", MAX_TRANSIENT_RETRIES: "1" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(
    `holds for ${RUNS} drawn schedules`,
    async () => {
      await fc.assert(
        fc.asyncProperty(schedule, (s) => runSchedule(stack, s)),
        { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      // A schedule with a poison image and a dead-lettered slice takes up to ~40 s on two cores.
    },
    Math.max(120_000, RUNS * 45_000),
  );
});

async function runSchedule(stack: LocalStack, s: Schedule): Promise<void> {
  // Prepare: the order's originals, with the poison and stalled images among them when drawn.
  const orderId = uniqueOrderId("schedule");
  const prefix = `orders/${orderId}/`;
  const names = [
    ...s.names,
    ...(s.poison ? ["POISON kills the worker.jpg"] : []),
    ...(s.stallOne ? ["STALL.jpg"] : []),
  ];
  const photos = await samplePhotos(names.length + 1, { seed: orderId, megapixels: 0.04 });
  const { s3 } = stack.emulator.clients;
  const bucket = stack.emulator.resources.sourceBucket;
  const keys = await uploadOrder(
    s3,
    bucket,
    prefix,
    names.map((n, i) => ({ name: n, data: photos[i]!.data })),
  );
  const event = { orderId, bucket, ...(s.source === "prefix" ? { prefix } : { keys }) };
  const { orderEventsTopicName: topic, orderEventsQueueName: queue } = stack.emulator.resources;
  const proxy = stack.faultProxy!;
  let topicDown = false;
  const restoreTopic = () => {
    if (!topicDown) return;
    stack.emulator.server.createTopic(topic);
    stack.emulator.server.subscribe({ topic, queue, attributes: { RawMessageDelivery: "true" } });
    topicDown = false;
  };

  try {
    // Act: plan, then change the world before the slices are delivered.
    if (s.eventsTopicDown) {
      stack.emulator.server.deleteTopic(topic);
      topicDown = true;
    }
    const hold = holdSlices(stack);
    await stack.emitOrderCompleted(event);
    if (s.lateUpload) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${s.names[0]} late.jpg`,
          Body: photos.at(-1)!.data,
        }),
      );
    }
    const deleted = s.deleteOne ? keys[0] : undefined;
    if (deleted) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: deleted }));
    proxy.configure({ s3FailureRate: s.s3FailureRate, stallOn: s.stallOne ? "STALL.jpg" : undefined });
    await hold.release();
    if (s.duplicateDeliveries) {
      for (const batch of hold.held.reverse()) {
        await stack.emulator.clients.sns.send(
          new PublishBatchCommand({ TopicArn: stack.emulator.topicArn, PublishBatchRequestEntries: batch }),
        );
      }
    }
    if (s.repeatEvent === "same") await stack.emitOrderCompleted(event);
    if (s.repeatEvent === "conflicting") {
      await expect(stack.emitOrderCompleted({ ...event, format: "webp" })).rejects.toThrow(/already planned/);
    }
    if (s.killWorker) await stack.workers.killOne();
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 120_000, intervalMs: 50 });
    restoreTopic();

    // Assess: the invariants, then that every failure is one this schedule explains.
    const { failed } = await auditOrder(stack, orderId, {
      planned: keys,
      events: s.eventsTopicDown || s.killWorker ? "at-least-one" : "one",
    });
    for (const f of failed) {
      const explained =
        (f.key === deleted && f.class === "NotFound") ||
        (f.key.includes("POISON") && ["Crashed", "ProcessingFailed"].includes(f.class)) ||
        (f.key.endsWith("STALL.jpg") && f.class === "Transient") ||
        (s.s3FailureRate > 0 && f.class === "Transient") ||
        // A poison image that dies beside a neighbour twice can take that neighbour to the dead-letter queue.
        (s.poison && f.class === "ProcessingFailed");
      expect(explained, `unexplained failure ${JSON.stringify(f)}`).toBe(true);
    }
  } finally {
    proxy.configure({ s3FailureRate: 0, stallOn: undefined });
    restoreTopic();
  }
}
