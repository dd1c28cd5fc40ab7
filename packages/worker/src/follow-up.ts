import type { SNSClient } from "@aws-sdk/client-sns";
import { publishSlices, type SliceItem, type SliceMessage, sliceMessage } from "@thumbs/core";
import { SliceError } from "./errors.js";

/**
 * The slices that carry on what one delivery did not finish: images handed back because the
 * invocation was running out of time (same attempt), and Transient images to try again (next attempt).
 */
export function followUpSlices(
  slice: SliceMessage,
  handedBack: SliceItem[],
  deferred: SliceItem[],
): SliceMessage[] {
  const toSlice = (items: SliceItem[], attempt: number) =>
    sliceMessage(slice.orderId, slice.sliceIndex, items, attempt);
  return [
    ...(handedBack.length > 0 ? [toSlice(handedBack, slice.attempt)] : []),
    ...(deferred.length > 0 ? [toSlice(deferred, slice.attempt + 1)] : []),
  ];
}

/** Publishes the follow-ups; if that fails the slice fails, and its redelivery redoes what is not done. */
export async function publishFollowUps(
  sns: SNSClient,
  topicArn: string,
  slices: SliceMessage[],
): Promise<void> {
  if (slices.length === 0) return;
  try {
    await publishSlices(sns, topicArn, slices);
  } catch (error) {
    throw new SliceError(
      `Could not hand back ${slices.length} follow-up slice(s) of order ${slices[0]!.orderId}.`,
      { cause: error },
    );
  }
}
