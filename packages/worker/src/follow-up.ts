import { setTimeout as sleep } from "node:timers/promises";
import type { SNSClient } from "@aws-sdk/client-sns";
import { publishSlices, type SliceItem, type SliceMessage, sliceMessage } from "@thumbs/core";
import { SliceError } from "./errors.js";

/** The first re-queue of Transient images waits up to this long; each later one up to twice as long. */
export const REQUEUE_BASE_DELAY_MS = 1_000;
/** The longest any re-queue waits: the invocation is billed while it does. */
export const REQUEUE_MAX_DELAY_MS = 8_000;
/** What a re-queue's wait leaves of the invocation, for publishing and announcing after it. */
export const REQUEUE_RESERVE_MS = 5_000;

/**
 * The slices that carry on what one delivery did not finish: images handed back because the
 * invocation was running out of time (same attempt, sent at once), and Transient images to try again
 * (next attempt, sent after a backoff).
 */
export interface FollowUps {
  handedBack: SliceMessage | undefined;
  deferred: SliceMessage | undefined;
}

export function followUpSlices(
  slice: SliceMessage,
  handedBack: SliceItem[],
  deferred: SliceItem[],
): FollowUps {
  const toSlice = (items: SliceItem[], attempt: number) =>
    items.length > 0 ? sliceMessage(slice.orderId, slice.sliceIndex, items, attempt) : undefined;
  return { handedBack: toSlice(handedBack, slice.attempt), deferred: toSlice(deferred, slice.attempt + 1) };
}

/**
 * How long to wait before re-queueing Transient images that failed on `attempt`: "full jitter" over an
 * exponential ceiling (1 s, 2 s, 4 s, then 8 s at most), so a throttled S3 or a Redis failover is not
 * hit again at once, and the workers that failed together do not come back together. Never more than
 * `availableMs`: SNS has no delayed delivery to Lambda, so the wait happens in this invocation.
 */
export function requeueDelayMs(
  attempt: number,
  availableMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(REQUEUE_MAX_DELAY_MS, REQUEUE_BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.floor(Math.max(0, Math.min(random() * ceiling, availableMs)));
}

/**
 * Publishes the follow-ups: hand-backs at once (their invocation is running out of time), Transient
 * re-queues after `delayMs`. If publishing fails the slice fails, and its redelivery redoes what is not
 * done.
 */
export async function publishFollowUps(
  sns: SNSClient,
  topicArn: string,
  followUps: FollowUps,
  delayMs: number,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<void> {
  const publish = async (slice: SliceMessage | undefined) => {
    if (!slice) return;
    try {
      await publishSlices(sns, topicArn, [slice]);
    } catch (error) {
      throw new SliceError(
        `Could not hand back ${slice.items.length} image(s) of slice ${slice.sliceIndex} of order ${slice.orderId}.`,
        { cause: error },
      );
    }
  };
  await publish(followUps.handedBack);
  if (followUps.deferred && delayMs > 0) await wait(delayMs);
  await publish(followUps.deferred);
}
