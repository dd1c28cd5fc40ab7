import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { OrderLedger } from "@thumbs/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DeadLetterConsumer, startDeadLetterConsumer } from "../src/dead-letters.js";
import { type Emulator, startEmulator } from "../src/emulator.js";
import { type LocalStack, startLocalStack } from "../src/stack.js";
import { emit, queueDepth, uniqueOrderId, uploadPhotos, useRedis } from "./helpers/stack.js";

const redis = useRedis();

describe("the local dead-letter consumer", () => {
  let stack: LocalStack | undefined;
  let emulator: Emulator | undefined;
  let consumer: DeadLetterConsumer | undefined;
  afterEach(async () => {
    await stack?.stop();
    await consumer?.stop();
    await emulator?.stop();
    stack = undefined;
    emulator = undefined;
    consumer = undefined;
    vi.restoreAllMocks();
  });

  it("settles a dead-lettered slice: its images fail, the order completes and the backend hears", async () => {
    // Prepare: an order planned while no worker runs, and its slice notification taken off the slice
    // queue, exactly as the queue's redrive would move it after its last failed delivery.
    stack = await startLocalStack({ workers: 1, redis: redis() });
    await stack.workers.stop();
    const orderId = uniqueOrderId("dead");
    const keys = await uploadPhotos(stack, orderId, 3);
    await emit(stack, orderId, keys);
    const { sqs } = stack.emulator.clients;
    const { queueUrl, deadLetterQueueUrl } = stack.emulator;
    const received = await vi.waitFor(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
      if (!Messages[0]) throw new Error("the slice is not on the slice queue yet");
      return Messages[0];
    }, 10_000);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }));

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: received.Body! }));

    // Assess
    const { deadLetters } = stack;
    await expect
      .poll(() => deadLetters.settled)
      .toEqual([{ orderId, sliceIndex: 0, recorded: 3, announced: true }]);
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({ done: 0, failed: 3, complete: true });
    const records = await stack.ledger.failedRecords(orderId);
    expect(records.map((r) => [r.key, r.class])).toEqual(keys.map((key) => [key, "ProcessingFailed"]));
    expect(await stack.orderEvents.waitFor(orderId)).toMatchObject({ orderId, failed: 3, done: 0 });
    await expect.poll(() => queueDepth(sqs, deadLetterQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("deletes a message that is not a slice, and says so on stderr", async () => {
    // Prepare
    const stderr = vi.spyOn(console, "error").mockImplementation(() => {});
    stack = await startLocalStack({ workers: 1, redis: redis() });
    const { sqs } = stack.emulator.clients;
    const { deadLetterQueueUrl } = stack.emulator;

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: "not a slice" }));

    // Assess
    const { deadLetters } = stack;
    await expect.poll(() => deadLetters.discarded.map((d) => d.body)).toEqual(["not a slice"]);
    expect(deadLetters.settled).toEqual([]);
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining("is not a slice and was deleted"));
    await expect.poll(() => queueDepth(sqs, deadLetterQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("leaves a slice it cannot settle (Redis down) on the queue for redelivery", async () => {
    // Prepare: a ledger whose Redis does not answer.
    const stderr = vi.spyOn(console, "error").mockImplementation(() => {});
    emulator = await startEmulator();
    const ledger = {
      sliceState: () => Promise.reject(new Error("Connection is closed.")),
    } as unknown as OrderLedger;
    const { sqs, sns, s3 } = emulator.clients;
    const queueUrl = emulator.deadLetterQueueUrl;
    const thumbnails = { bucket: emulator.resources.thumbnailBucket, prefix: "" };
    consumer = startDeadLetterConsumer({
      sqs,
      sns,
      s3,
      thumbnails,
      ledger,
      queueUrl,
      orderEventsTopicArn: undefined,
    });
    const slice = { version: 2, orderId: "down-1", sliceIndex: 0, items: [{ index: 0, key: "a.jpg" }] };

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(slice) }));

    // Assess: received, not settled, not deleted.
    const settling = consumer;
    await expect.poll(() => settling.failures.length).toBe(1);
    expect(settling.failures[0]!.error).toBe("Connection is closed.");
    expect(settling.settled).toEqual([]);
    expect(await queueDepth(sqs, queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining("could not be settled"));
  });
});
