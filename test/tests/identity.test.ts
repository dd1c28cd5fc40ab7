import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { PublishCommand } from "@aws-sdk/client-sns";
import { OrderConflictError } from "@thumbs/core";
import { awaitOrder, type LocalStack, samplePhotos } from "@thumbs/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditOrder } from "./helpers/audit.js";
import { holdSlices } from "./helpers/hold.js";
import { uploadNamed } from "./helpers/orders.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

const emit = (stack: LocalStack, orderId: string, extra: object = {}) =>
  stack.emitOrderCompleted({
    orderId,
    bucket: stack.emulator.resources.sourceBucket,
    prefix: `orders/${orderId}/`,
    ...extra,
  });

/** Camera-style names: mixed case, spaces, accents, upper-case extensions. */
const cameraNames = (n: number): string[] =>
  Array.from(
    { length: n },
    (_, i) => [`a-${i}.jpg`, `B-${i}.jpg`, `IMG ${i}.JPG`, `Été_${i}.jpeg`, `DSC0${i} (1).jpg`][i % 5]!,
  );

describe("each image keeps its planned key from planning to record", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await testStack({ sliceSize: 4, visibilityTimeoutSeconds: 2 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("loses and doubles nothing with camera-style names the emulator lists out of byte order", async () => {
    // Prepare: the case that lost 5 of 30 images when workers mapped listings to indices by position.
    const orderId = uniqueOrderId("names");
    const names = [
      ...Array.from({ length: 15 }, (_, i) => `a-${String(i + 1).padStart(2, "0")}.jpg`),
      ...Array.from({ length: 15 }, (_, i) => `B-${String(i + 1).padStart(2, "0")}.jpg`),
      ...cameraNames(10),
    ];
    const keys = await uploadNamed(stack, orderId, names);

    // Act
    await emit(stack, orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 90_000 });

    // Assess
    const { failed } = await auditOrder(stack, orderId, { planned: keys });
    expect(failed).toEqual([]);
  });

  it("leaves out an upload that lands after planning, inside a slice's key range", async () => {
    // Prepare
    const orderId = uniqueOrderId("late");
    const keys = await uploadNamed(stack, orderId, [
      "IMG_0001.jpg",
      "IMG_0002.jpg",
      "IMG_0003.jpg",
      "IMG_0004.jpg",
      "IMG_0005.jpg",
    ]);
    const hold = holdSlices(stack);
    await emit(stack, orderId);

    // Act: a late file that sorts inside the first slice, before any slice is delivered.
    await uploadNamed(stack, orderId, ["IMG_0002a.jpg"]);
    await hold.release();
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });

    // Assess: every planned image done, and no thumbnails of the late file (audit: none outside the plan).
    const { done } = await auditOrder(stack, orderId, { planned: keys });
    expect(done.sort()).toEqual([...keys].sort());
  });

  it("records an original deleted after planning as NotFound under its own key", async () => {
    // Prepare
    const orderId = uniqueOrderId("deleted");
    const keys = await uploadNamed(stack, orderId, cameraNames(6));
    const hold = holdSlices(stack);
    await emit(stack, orderId);
    const gone = keys[3]!;

    // Act
    await stack.emulator.clients.s3.send(
      new DeleteObjectCommand({ Bucket: stack.emulator.resources.sourceBucket, Key: gone }),
    );
    await hold.release();
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });

    // Assess
    const { failed } = await auditOrder(stack, orderId, { planned: keys });
    expect(failed).toEqual([
      { key: gone, class: "NotFound", message: expect.stringMatching(/does not exist/) },
    ]);
  });

  it("keeps a done image done when its original is deleted before a killed slice is redelivered", async () => {
    // Prepare
    const orderId = uniqueOrderId("kill-delete");
    const keys = await uploadNamed(stack, orderId, cameraNames(8));

    // Act: kill a worker once some images are done, then delete an original that is done.
    await emit(stack, orderId);
    await expect
      .poll(async () => (await stack.ledger.getProgress(orderId)).done, { interval: 10, timeout: 30_000 })
      .toBeGreaterThan(1);
    await stack.workers.killOne();
    const [firstDone] = await stack.ledger.doneIndices(orderId, [...keys.keys()]);
    const [deleted] = await stack.ledger.plannedKeys(orderId, firstDone!, 1);
    await stack.emulator.clients.s3.send(
      new DeleteObjectCommand({ Bucket: stack.emulator.resources.sourceBucket, Key: deleted!.key }),
    );
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });

    // Assess: the deleted one keeps its thumbnails (it was done); every other image is itself.
    const { done, failed } = await auditOrder(stack, orderId, { planned: keys });
    expect(done).toContain(deleted!.key);
    expect(failed).toEqual([]);
  });

  it("announces completion when a redelivery fixes an image of the completing slice", async () => {
    // Prepare: the order-events topic is gone, so the completing slice cannot announce and is redelivered;
    // one of its images is missing at first.
    const { orderEventsTopicName: topic, orderEventsQueueName: queue } = stack.emulator.resources;
    const orderId = uniqueOrderId("lost-event");
    const keys = await uploadNamed(stack, orderId, ["one.jpg", "two.jpg", "three.jpg"]);
    const missing = `orders/${orderId}/four.jpg`;
    stack.emulator.server.deleteTopic(topic);
    try {
      await stack.emitOrderCompleted({
        orderId,
        bucket: stack.emulator.resources.sourceBucket,
        keys: [...keys, missing],
      });
      await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });

      // Act: the missing original arrives before the redelivery, then the topic comes back.
      const [photo] = await samplePhotos(1, { seed: "four", megapixels: 0.05 });
      await stack.emulator.clients.s3.send(
        new PutObjectCommand({
          Bucket: stack.emulator.resources.sourceBucket,
          Key: missing,
          Body: photo!.data,
        }),
      );
    } finally {
      stack.emulator.server.createTopic(topic);
      stack.emulator.server.subscribe({ topic, queue, attributes: { RawMessageDelivery: "true" } });
    }

    // Assess: the redelivery counts the fixed image as done and still announces the order.
    await expect
      .poll(async () => (await stack.ledger.getProgress(orderId)).done, { timeout: 30_000 })
      .toBe(4);
    const { done } = await auditOrder(stack, orderId, { planned: [...keys, missing] });
    expect(done).toHaveLength(4);
  });

  it("refuses a second event with another output spec, and makes only the planned sizes", async () => {
    // Prepare
    const orderId = uniqueOrderId("spec");
    const keys = await uploadNamed(stack, orderId, cameraNames(5));
    const hold = holdSlices(stack);
    await emit(stack, orderId);

    // Act
    const second = await emit(stack, orderId, { sizes: [{ name: "tiny", width: 64, height: 64 }] }).catch(
      (e: unknown) => e,
    );
    await hold.release();
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });

    // Assess
    expect(second).toBeInstanceOf(OrderConflictError);
    expect((second as Error).message).toMatch(/output was .*"large".*now .*"tiny"/);
    await auditOrder(stack, orderId, { planned: keys, sizes: ["large", "small"] });
  });

  it("refuses malformed and forged slices without harming a worker, and notes them on the order", async () => {
    // Prepare: an order to forge against, and the worker processes as they are.
    const orderId = uniqueOrderId("forged");
    const keys = await uploadNamed(stack, orderId, cameraNames(3));
    await emit(stack, orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });
    const pids = stack.workers.processes.map((p) => p.pid);
    const before = stack.workers.events.length;
    const publish = (message: unknown) =>
      stack.emulator.clients.sns.send(
        new PublishCommand({ TopicArn: stack.emulator.topicArn, Message: JSON.stringify(message) }),
      );

    // Act: a huge count (the old schema had no bound), too many items, and a key outside the plan.
    await publish({
      version: 1,
      orderId,
      bucket: "b",
      sliceIndex: 0,
      offset: 0,
      count: 2_000_000_000,
      source: { kind: "keys", keys: ["x"] },
    });
    await publish({
      version: 2,
      orderId,
      sliceIndex: 0,
      items: Array.from({ length: 1001 }, (_, index) => ({ index, key: `k${index}` })),
    });
    await publish({
      version: 2,
      orderId,
      sliceIndex: 0,
      items: [{ index: 0, key: "private/passport-scan.jpg" }],
    });
    await expect
      .poll(async () => (await stack.ledger.getProgress(orderId)).rejectedSlices, { timeout: 30_000 })
      .toBe(3);

    // Assess
    expect(stack.workers.processes.map((p) => p.pid)).toEqual(pids);
    expect(
      stack.workers.events.slice(before).some((e) => e.type === "slice-failed" || e.type === "exited"),
    ).toBe(false);
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({ rejectedSlices: 3, done: 3 });
    await auditOrder(stack, orderId, { planned: keys });
  });

  it("records images failed when part of the plan is lost, and a re-sent event plans the order again", async () => {
    // Prepare: the plan's entries vanish (evicted) after the order was planned, before its slices run.
    const orderId = uniqueOrderId("plan-lost");
    const keys = await uploadNamed(stack, orderId, cameraNames(5));
    const hold = holdSlices(stack);
    await emit(stack, orderId);
    await stack.redis.del(`${stack.keyPrefix}{${orderId}}:keys`);

    // Act
    await hold.release();
    const lost = await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });
    await emit(stack, orderId);
    await expect
      .poll(async () => (await stack.ledger.getProgress(orderId)).done, { timeout: 30_000 })
      .toBe(5);

    // Assess: first every image was accounted for as failed, saying why; then all were made.
    expect(lost).toMatchObject({ total: 5, done: 0, failed: 5, complete: true });
    const { done } = await auditOrder(stack, orderId, { planned: keys, events: "at-least-one" });
    expect(done).toHaveLength(5);
  });

  it("starts a re-planned order from nothing when only its meta was lost", async () => {
    // Prepare: a finished order loses its meta hash but keeps its bitmaps and records.
    const orderId = uniqueOrderId("meta-lost");
    const keys = await uploadNamed(stack, orderId, cameraNames(4));
    await emit(stack, orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });
    await stack.redis.del(`${stack.keyPrefix}{${orderId}}:meta`);

    // Act
    await emit(stack, orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });

    // Assess: counters equal the bitmaps again, and every image is done.
    const { done } = await auditOrder(stack, orderId, { planned: keys, events: "at-least-one" });
    expect(done).toHaveLength(4);
  });

  it.each([
    ["one key per line", (keys: string[]) => `${keys.join("\r\n")}\n\n`],
    ["a JSON array", (keys: string[]) => JSON.stringify(keys, null, 1)],
  ])("plans an order from a manifest written as %s", async (_, write) => {
    // Prepare: the key list in the bucket, as an order too big for an event would send it.
    const orderId = uniqueOrderId("manifest");
    const keys = await uploadNamed(stack, orderId, cameraNames(6));
    const manifest = `manifests/${orderId}.keys`;
    await stack.emulator.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.emulator.resources.sourceBucket,
        Key: manifest,
        Body: write(keys),
      }),
    );

    // Act
    await stack.emitOrderCompleted({ orderId, bucket: stack.emulator.resources.sourceBucket, manifest });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });

    // Assess
    const { done } = await auditOrder(stack, orderId, { planned: keys });
    expect(done).toHaveLength(6);
  });

  it("sends one completion event for an empty order planned by three events at once", async () => {
    // Prepare
    const orderId = uniqueOrderId("empty");

    // Act
    await Promise.all([emit(stack, orderId), emit(stack, orderId), emit(stack, orderId)]);

    // Assess
    await auditOrder(stack, orderId, { planned: [] });
  });
});
