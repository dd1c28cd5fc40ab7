import { setTimeout as sleep } from "node:timers/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { OrderLedger } from "@thumbs/core";
import { type DeadSlice, deadSlicesFromMessage, type SettleReport, settleDeadSlice } from "@thumbs/worker";

export interface DeadLetterConsumerDeps {
  sqs: SQSClient;
  /** The slice queue's dead-letter queue (the emulator's `deadLetterQueueUrl`). */
  queueUrl: string;
  ledger: OrderLedger;
  sns: SNSClient;
  s3: S3Client;
  thumbnails: { bucket: string; prefix: string };
  orderEventsTopicArn: string | undefined;
}

export interface DeadLetterConsumer {
  /** Every slice settled so far, in order (a redelivered message is settled again and records nothing new). */
  readonly settled: readonly SettleReport[];
  /** Messages that were not a dead slice at all: logged and deleted. */
  readonly discarded: readonly { body: string; error: string }[];
  /** Settling attempts that threw (e.g. Redis down): the message was left for redelivery. */
  readonly failures: readonly { messageId: string; error: string }[];
  stop(): Promise<void>;
}

/**
 * The local stand-in for the dead-letter Lambda: drains the slice queue's dead-letter queue and settles
 * each dead slice with the same code that runs on AWS, so an order whose slice failed every delivery
 * still completes (its unfinished images recorded as failed) instead of waiting forever.
 */
export function startDeadLetterConsumer(deps: DeadLetterConsumerDeps): DeadLetterConsumer {
  const settled: SettleReport[] = [];
  const discarded: { body: string; error: string }[] = [];
  const failures: { messageId: string; error: string }[] = [];
  const stopping = new AbortController();

  const remove = (message: Message) =>
    deps.sqs.send(
      new DeleteMessageCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );

  const handle = async (message: Message) => {
    const body = message.Body ?? "";
    let slices: DeadSlice[];
    try {
      slices = deadSlicesFromMessage(body);
    } catch (error) {
      // Redelivering it would not make it a slice: keep it in the log, not in the queue.
      const reason = (error as Error).message;
      console.error(
        `Dead-letter message ${message.MessageId} is not a slice and was deleted (${reason}): ${body.slice(0, 500)}`,
      );
      discarded.push({ body, error: reason });
      return remove(message);
    }
    try {
      // Settling is idempotent, so a message settled in part and redelivered is settled in full later.
      for (const slice of slices) settled.push(await settleDeadSlice(deps, slice));
    } catch (error) {
      const reason = (error as Error).message;
      console.error(
        `Dead-letter message ${message.MessageId} could not be settled (${reason}); it stays on the queue ` +
          "and is retried when it becomes visible again. Check that Redis is reachable.",
      );
      failures.push({ messageId: message.MessageId ?? "", error: reason });
      return;
    }
    await remove(message);
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const { Messages = [] } = await deps.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: deps.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages) await handle(message);
      } catch (error) {
        // The queue itself failed (emulator stopping, or gone): say so, then try again shortly, or stop
        // as soon as stop() is called.
        if (stopping.signal.aborted) return;
        console.error(`Dead-letter consumer: ${(error as Error).message}; retrying in 1 s.`);
        await sleep(1_000, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  })();

  return {
    settled,
    discarded,
    failures,
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
