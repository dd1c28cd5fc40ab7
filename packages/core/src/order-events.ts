import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { z } from "zod";
import { OrderIdSchema } from "./contracts.js";
import { PublishError } from "./errors.js";
import type { OrderLedger } from "./ledger.js";
import { ORDER_STATUSES } from "./redis-layout.js";

/** The `type` of the event published once every image of an order is accounted for. */
export const ORDER_THUMBNAILS_COMPLETED = "order-thumbnails-completed";

/**
 * What the backend hears back, on the order-events topic, when every image of an order has both
 * thumbnails or an error record: the counterpart of its order-completed event. Delivery is at least
 * once (SNS itself may deliver twice): deduplicate on `orderId`.
 */
export const OrderThumbnailsCompletedSchema = z.object({
  type: z.literal(ORDER_THUMBNAILS_COMPLETED),
  orderId: OrderIdSchema,
  /** succeeded: every image has its thumbnails; completed_with_errors: some failed; failed: over threshold. */
  status: z.enum(ORDER_STATUSES).exclude(["running"]),
  total: z.number().int().min(0),
  done: z.number().int().min(0),
  failed: z.number().int().min(0),
  completedAt: z.iso.datetime(),
});
export type OrderThumbnailsCompleted = z.infer<typeof OrderThumbnailsCompletedSchema>;

/**
 * Publishes the order's completion event if the order is complete and its event has not been
 * published yet; true when this call published it. Called after each slice: the slice that accounts
 * for the last image publishes it, and if that publish fails the slice fails and its redelivery
 * (whose images are all done by then) publishes it instead. The ledger records the event as sent
 * only after SNS accepted it, so a crash in between sends it again rather than never.
 */
export async function announceCompletion(
  sns: SNSClient,
  topicArn: string,
  ledger: OrderLedger,
  orderId: string,
): Promise<boolean> {
  const progress = await ledger.unannouncedCompletion(orderId);
  if (!progress || progress.status === "running" || !progress.completedAt) return false;
  const event: OrderThumbnailsCompleted = {
    type: ORDER_THUMBNAILS_COMPLETED,
    orderId,
    status: progress.status,
    total: progress.total,
    done: progress.done,
    failed: progress.failed,
    completedAt: progress.completedAt,
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
    throw new PublishError(`Could not publish the completion event of order ${orderId}.`, [], {
      cause: error,
    });
  }
  await ledger.markAnnounced(orderId);
  return true;
}
