import { EventEmitter } from "node:events";
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type OrderThumbnailsCompleted, OrderThumbnailsCompletedSchema, parseContract } from "@thumbs/core";
import { pEvent, TimeoutError } from "p-event";

/** The backend's side of the order-events topic: every event published, as it arrives. */
export interface OrderEventListener {
  /** Every event received so far, in arrival order (duplicates included: delivery is at least once). */
  readonly events: readonly OrderThumbnailsCompleted[];
  /** The first event for the order, waiting for it up to `timeoutMs`. */
  waitFor(orderId: string, timeoutMs?: number): Promise<OrderThumbnailsCompleted>;
  stop(): Promise<void>;
}

/**
 * Drains the queue subscribed to the order-events topic in the background, as a backend's
 * subscription would, validating each event against its contract.
 */
export function listenForOrderEvents(sqs: SQSClient, queueUrl: string): OrderEventListener {
  const events: OrderThumbnailsCompleted[] = [];
  // "event" for each one received, "failure" when the loop ends on an error: what waitFor waits on.
  const arrivals = new EventEmitter().setMaxListeners(0);
  let stopped = false;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) {
        const event = parseContract(
          OrderThumbnailsCompletedSchema,
          JSON.parse(message.Body ?? ""),
          "order event",
        );
        events.push(event);
        arrivals.emit("event", event);
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  })().catch((error: unknown) => {
    // Kept for waitFor to throw: an event that breaks its contract is a bug to show, not to skip.
    failure = error;
    arrivals.emit("failure", error);
  });
  return {
    events,
    async waitFor(orderId, timeoutMs = 10_000) {
      if (failure) throw failure;
      const received = events.find((e) => e.orderId === orderId);
      if (received) return received;
      try {
        return (await pEvent(arrivals, "event", {
          filter: (event) => (event as OrderThumbnailsCompleted).orderId === orderId,
          rejectionEvents: ["failure"],
          timeout: timeoutMs,
        })) as OrderThumbnailsCompleted;
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        throw new Error(`No order-thumbnails-completed event for order ${orderId} within ${timeoutMs} ms.`, {
          cause: error,
        });
      }
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
