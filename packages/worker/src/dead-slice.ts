import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  announceCompletion,
  ContractError,
  ImageFailure,
  type OrderLedger,
  parseContract,
  type SliceMessage,
  SliceMessageSchema,
} from "@thumbs/core";
import { z } from "zod";
import { removeThumbnails } from "./store-thumbnails.js";

/** A slice that failed every delivery, and why its last attempt failed. */
export interface DeadSlice {
  slice: SliceMessage;
  lastError: string;
}

const SnsRecords = z.object({ Records: z.array(z.object({ Sns: z.object({ Message: z.string() }) })) });
/** What Lambda sends to an asynchronous invocation's on-failure destination. */
const OnFailureRecord = z.object({
  requestPayload: SnsRecords,
  requestContext: z.object({ condition: z.string().optional() }).partial().optional(),
  responsePayload: z
    .object({ errorType: z.string().optional(), errorMessage: z.string().optional() })
    .nullish(),
});
/** An SNS notification as SNS writes it to a subscription's dead-letter queue (or to an SQS subscriber). */
const SnsEnvelope = z.object({ Message: z.string() });

/**
 * The dead slices in one dead-letter message: a Lambda on-failure destination record (the worker's
 * retries ran out), an SNS envelope (SNS could not deliver, or the local slice queue's redrive), or a
 * bare slice message.
 */
export function deadSlicesFromMessage(body: string): DeadSlice[] {
  const json = JSON.parse(body) as unknown;
  const failure = OnFailureRecord.safeParse(json);
  if (failure.success) {
    const response = failure.data.responsePayload;
    const lastError = response?.errorMessage
      ? `${response.errorType ?? "Error"}: ${response.errorMessage}`
      : `the worker's retries ran out (${failure.data.requestContext?.condition ?? "RetriesExhausted"})`;
    return failure.data.requestPayload.Records.map((r) => ({ slice: parseSlice(r.Sns.Message), lastError }));
  }
  const envelope = SnsEnvelope.safeParse(json);
  if (envelope.success) {
    return [{ slice: parseSlice(envelope.data.Message), lastError: "every delivery of the slice failed" }];
  }
  return [
    {
      slice: parseContract(SliceMessageSchema, json, "dead slice"),
      lastError: "every delivery of the slice failed",
    },
  ];
}

const parseSlice = (message: string): SliceMessage => {
  try {
    return parseContract(SliceMessageSchema, JSON.parse(message), "dead slice");
  } catch (error) {
    if (error instanceof ContractError) throw error;
    throw new ContractError(`A dead slice is not JSON (${(error as Error).message}).`, [], { cause: error });
  }
};

export interface SettleReport {
  orderId: string;
  sliceIndex: number;
  /** Images recorded as ProcessingFailed now. */
  recorded: number;
  announced: boolean;
}

/**
 * Settles a slice that will not be delivered again: each of its planned images that is neither done nor
 * failed yet is recorded as ProcessingFailed with the slice's last error, so no order waits forever on
 * it. Images that already have an outcome keep it. Idempotent: settling twice records nothing new.
 */
export async function settleDeadSlice(
  deps: {
    ledger: OrderLedger;
    sns: SNSClient;
    s3: S3Client;
    thumbnails: { bucket: string; prefix: string };
    orderEventsTopicArn: string | undefined;
  },
  { slice, lastError }: DeadSlice,
): Promise<SettleReport> {
  const report = { orderId: slice.orderId, sliceIndex: slice.sliceIndex, recorded: 0, announced: false };
  const { order, items } = await deps.ledger.sliceState(
    slice.orderId,
    slice.items.map((i) => i.index),
  );
  if (!order) return report;
  const failure = new ImageFailure(
    "ProcessingFailed",
    `The slice holding this image failed every attempt and was dead-lettered; last error: ${lastError}`,
  );
  for (const [i, item] of slice.items.entries()) {
    const state = items[i]!;
    if (state.done || state.failed || item.index >= order.total || state.plannedKey !== item.key) continue;
    // An invocation that died after storing may have left thumbnails: a failed image has none.
    const target = {
      ...deps.thumbnails,
      orderId: slice.orderId,
      sourceKey: item.key,
      format: order.output.format,
    };
    await removeThumbnails(deps.s3, target, order.output.sizes);
    const recorded = await deps.ledger.recordFailed(slice.orderId, {
      ...item,
      sliceIndex: slice.sliceIndex,
      failure,
    });
    if (recorded.counted) report.recorded += 1;
  }
  if (deps.orderEventsTopicArn) {
    report.announced = await announceCompletion(
      deps.sns,
      deps.orderEventsTopicArn,
      deps.ledger,
      slice.orderId,
      // The slice's unit, as its worker invocations name it; "dead-letters" holds no lease, so a claim
      // left by a worker invocation that died (or by an earlier settling of this message) is taken over.
      `slice:${slice.sliceIndex}#dead-letters`,
    );
  }
  return report;
}
