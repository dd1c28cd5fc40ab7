import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { z } from "zod";
import { OrderIdSchema } from "./contracts.js";
import { PublishError } from "./errors.js";
import type { OrderLedger } from "./ledger.js";
import { ORDER_STATUSES } from "./redis-layout.js";

/** The `type` of the event published once every image of an order is accounted for. */
export const ORDER_THUMBNAILS_COMPLETED = "order-thumbnails-completed";
/** The `type` of the event published when a complete order's counts change (a retry, a late success). */
export const ORDER_THUMBNAILS_UPDATED = "order-thumbnails-updated";

/**
 * What the backend hears back, on the order-events topic, when every image of an order has both
 * thumbnails or an error record: the counterpart of its order-completed event. Delivery is at least
 * once (SNS itself may deliver twice): deduplicate on `orderId`.
 */
export const OrderThumbnailsCompletedSchema = z.object({
  type: z.enum([ORDER_THUMBNAILS_COMPLETED, ORDER_THUMBNAILS_UPDATED]),
  orderId: OrderIdSchema,
  /** succeeded: every image has its thumbnails; completed_with_errors: some failed; failed: over threshold. */
  status: z.enum(ORDER_STATUSES).exclude(["running"]),
  total: z.number().int().min(0),
  done: z.number().int().min(0),
  failed: z.number().int().min(0),
  completedAt: z.iso.datetime(),
  /** 0 for the completion; counts up with each later change, so the latest revision holds the final counts. */
  revision: z.number().int().min(0).default(0),
});
export type OrderThumbnailsCompleted = z.infer<typeof OrderThumbnailsCompletedSchema>;

/**
 * Publishes the order's completion event if the order is complete and its event has not been sent, or
 * an `order-thumbnails-updated` event with the new counts when they changed after it was sent (a retry,
 * a re-queued image that succeeded late); true when this call published one. Called after every slice run (redeliveries included) and by the
 * coordinator for an empty order, so whoever finds the order complete and unannounced sends it.
 *
 * Concurrent callers take a claim in Redis first, so in the normal case one event goes out. The claim
 * is named by `claimant`, a unit of work that is retried under the same name (`slice:3`, one
 * coordinator event): if the claimant dies before publishing, its own retry takes the claim back at
 * once, and anyone else may take it when it lapses, so at least one event always goes out. The event
 * is recorded as sent only after SNS accepted it; a crash in between sends it twice, never zero times.
 */
export async function announceCompletion(
  sns: SNSClient,
  topicArn: string,
  ledger: OrderLedger,
  orderId: string,
  claimant: string,
): Promise<boolean> {
  let published = false;
  // A change counted while this claimant held the claim found it taken and did not publish: look again
  // after publishing, so the last revision always goes out.
  const target = { sns, topicArn, ledger, orderId, claimant };
  for (let round = 0; round < 3 && (await publishOnce(target)); round++) {
    published = true;
  }
  return published;
}

async function publishOnce({
  sns,
  topicArn,
  ledger,
  orderId,
  claimant,
}: {
  sns: SNSClient;
  topicArn: string;
  ledger: OrderLedger;
  orderId: string;
  claimant: string;
}): Promise<boolean> {
  if (!(await ledger.claimAnnouncement(orderId, claimant))) return false;
  const progress = await ledger.getProgress(orderId);
  const event: OrderThumbnailsCompleted = {
    type: progress.announced ? ORDER_THUMBNAILS_UPDATED : ORDER_THUMBNAILS_COMPLETED,
    orderId,
    status: progress.status === "running" ? "completed_with_errors" : progress.status,
    total: progress.total,
    done: progress.done,
    failed: progress.failed,
    completedAt: progress.completedAt ?? new Date().toISOString(),
    revision: progress.revision,
  };
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(event),
        // Lets a subscription filter on the event type or status without parsing the body.
        MessageAttributes: {
          type: { DataType: "String", StringValue: event.type },
          status: { DataType: "String", StringValue: event.status },
        },
      }),
    );
  } catch (error) {
    await ledger.endAnnouncement(orderId, claimant, "released").catch(() => undefined);
    throw new PublishError(`Could not publish the completion event of order ${orderId}.`, [], {
      cause: error,
    });
  }
  await ledger.endAnnouncement(orderId, claimant, "sent", progress.revision);
  return true;
}
