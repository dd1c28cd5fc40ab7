import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  announceCompletion,
  KeyFingerprint,
  keySlices,
  type OrderLedger,
  type OutputSpec,
  type PublishOptions,
  publishSlices,
  type SliceMessage,
  sliceMessage,
} from "@thumbs/core";
import type { CoordinatorConfig } from "./config.js";
import { listOrderRanges } from "./list-order.js";
import { parseOrderEvent } from "./parse-event.js";

export interface CoordinatorDeps {
  s3: S3Client;
  sns: SNSClient;
  ledger: OrderLedger;
  config: CoordinatorConfig;
  publish?: PublishOptions;
}

export interface PlanReport {
  orderId: string;
  total: number;
  slices: number;
  batches: number;
  /** False when the order had already been planned (a duplicate event): its progress was kept. */
  created: boolean;
}

/**
 * Plans an order into slices and publishes them. The order's total is recorded in Redis before any
 * slice goes out, so a worker can never see the order complete early. Safe to run twice for one order.
 */
export async function planOrder(deps: CoordinatorDeps, input: unknown): Promise<PlanReport> {
  const { config } = deps;
  const event = parseOrderEvent(input, config);
  const output: OutputSpec = {
    sizes: event.sizes ?? config.defaultOutput.sizes,
    format: event.format ?? config.defaultOutput.format,
    quality: event.quality ?? config.defaultOutput.quality,
  };
  const limits = { sliceSize: config.sliceSize, maxSlices: config.maxSlices };
  const order = { orderId: event.orderId, bucket: event.bucket, output };

  let slices: SliceMessage[];
  let total: number;
  let fingerprint: string;
  if (event.keys) {
    // Canonical order, duplicates dropped: a repeated event, whatever its key order, maps every
    // index to the same image, and a key listed twice is one image, not two.
    const keys = [...new Set(event.keys)].sort();
    total = keys.length;
    fingerprint = KeyFingerprint.of(keys);
    slices = keySlices({ ...order, keys, limits });
  } else {
    const prefix = event.prefix!;
    const planner = await listOrderRanges(deps.s3, event.bucket, prefix, config.sliceSize);
    total = planner.total;
    fingerprint = planner.keysFingerprint();
    slices = planner
      .slices(limits)
      .map((s, i) =>
        sliceMessage(order, i, s, { kind: "range", prefix, startAfter: s.startAfter, lastKey: s.lastKey }),
      );
  }

  const state = await deps.ledger.initOrder({
    orderId: event.orderId,
    total,
    slices: slices.length,
    bucket: event.bucket,
    source: event.keys ? `${total} listed keys` : `s3://${event.bucket}/${event.prefix}`,
    fingerprint,
    prefix: event.prefix,
    output,
    failureThresholdPercent: event.failureThresholdPercent ?? config.failureThresholdPercent,
  });
  const { batches } = await publishSlices(deps.sns, config.sliceTopicArn, slices, deps.publish);
  // An order with no images is complete as soon as it is recorded, and no worker will ever see it.
  if (slices.length === 0 && config.orderEventsTopicArn) {
    await announceCompletion(deps.sns, config.orderEventsTopicArn, deps.ledger, event.orderId);
  }
  return { orderId: event.orderId, total, slices: slices.length, batches, created: state === "created" };
}
