import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type OrderThumbnailsCompleted, OrderThumbnailsCompletedSchema, parseContract } from "@thumbs/core";

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
  let stopped = false;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) {
        events.push(
          parseContract(OrderThumbnailsCompletedSchema, JSON.parse(message.Body ?? ""), "order event"),
        );
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  })().catch((error: unknown) => {
    // Kept for waitFor to throw: an event that breaks its contract is a bug to show, not to skip.
    failure = error;
  });
  return {
    events,
    async waitFor(orderId, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure) throw failure;
        const event = events.find((e) => e.orderId === orderId);
        if (event) return event;
        if (Date.now() > deadline) {
          throw new Error(`No order-thumbnails-completed event for order ${orderId} within ${timeoutMs} ms.`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
