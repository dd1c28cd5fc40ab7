import { randomUUID } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  announceCompletion,
  ContractError,
  effectiveSliceSize,
  identityString,
  keysFingerprint,
  MAX_ORDER_IMAGES,
  type OrderIdentity,
  type OrderLedger,
  type PublishOptions,
  publishSlices,
  SliceCutter,
  type SliceMessage,
  ThumbsError,
} from "@thumbs/core";
import type { CoordinatorConfig } from "./config.js";
import { keyPages, listOrderPages, manifestPages } from "./list-order.js";
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
  /** False when the order had already been planned (a duplicate event): its plan and progress were kept. */
  created: boolean;
  /** This run published the order's completion event (an empty order, or one completed earlier). */
  announced: boolean;
}

// Planned images read back from Redis per round trip, and slices published per group of batches.
const READ_PAGE = 1000;
const PUBLISH_GROUP = 100;

/**
 * Plans an order and publishes its slices. The plan (every image's index and key) is written to Redis
 * page by page and committed, with the order's total, before any slice goes out, so a worker can never
 * see the order complete early and every later step names an image by its planned key. A repeated event
 * re-publishes the recorded plan without listing again; one with another source or output spec is
 * refused (OrderConflictError). `claimant` names this event for the completion-event claim (the
 * EventBridge event id, stable across Lambda's retries of one event).
 */
export async function planOrder(
  deps: CoordinatorDeps,
  input: unknown,
  claimant = `order-completed:${eventId(input) ?? randomUUID()}`,
): Promise<PlanReport> {
  const { config, ledger } = deps;
  const event = parseOrderEvent(input, config);
  const explicit = event.keys ? [...new Set(event.keys)].sort() : undefined;
  const identity: OrderIdentity = {
    bucket: event.bucket,
    source: explicit
      ? `keys:${keysFingerprint(explicit)}`
      : event.manifest !== undefined
        ? `manifest:${event.manifest}`
        : `prefix:${event.prefix}`,
    output: {
      sizes: event.sizes ?? config.defaultOutput.sizes,
      format: event.format ?? config.defaultOutput.format,
      quality: event.quality ?? config.defaultOutput.quality,
    },
  };

  let created = false;
  let existing = await ledger.plannedOrder(event.orderId);
  if (existing && existing.identity !== identityString(identity)) {
    throw ledger.conflict(event.orderId, existing.identity, identity);
  }
  // Part of the plan lost (evicted) while the order's meta survived: its slices are refused and its
  // images recorded as failed, so the same event plans the order again from scratch.
  if (existing && !(await ledger.planIntact(event.orderId, existing.total))) {
    await ledger.forgetOrder(event.orderId);
    existing = undefined;
  }
  if (!existing) {
    const runId = randomUUID();
    try {
      const pages = explicit
        ? keyPages(explicit)
        : event.manifest !== undefined
          ? manifestPages(deps.s3, event.bucket, event.manifest)
          : listOrderPages(deps.s3, event.bucket, event.prefix!);
      let total = 0;
      for await (const page of pages) {
        total = await ledger.stagePlan(event.orderId, runId, page);
        if (total > MAX_ORDER_IMAGES) {
          throw new ContractError(
            `Order "${event.orderId}" has more than ${MAX_ORDER_IMAGES} images (${identity.source}): ` +
              "split it into several orders.",
          );
        }
      }
      const state = await ledger.initOrder({
        orderId: event.orderId,
        runId,
        total,
        identity,
        source: explicit
          ? `${total} listed keys`
          : event.manifest !== undefined
            ? `${total} keys listed in s3://${event.bucket}/${event.manifest}`
            : `s3://${event.bucket}/${event.prefix}`,
        prefix: event.prefix,
        failureThresholdPercent: event.failureThresholdPercent ?? config.failureThresholdPercent,
      });
      created = state === "created";
    } catch (error) {
      await ledger.dropStagedPlan(event.orderId, runId).catch(() => undefined);
      throw error;
    }
  }

  const plan = await ledger.requirePlannedOrder(event.orderId);
  const { slices, batches } = await publishPlan(deps, event.orderId, plan.total);
  await ledger.setSliceCount(event.orderId, slices);
  // An empty order is complete once recorded, and no worker will ever see it; a repeated event may find
  // an order complete whose event was never sent. Either way whoever finds it so sends it.
  const announced = config.orderEventsTopicArn
    ? await announceCompletion(deps.sns, config.orderEventsTopicArn, ledger, event.orderId, claimant)
    : false;
  return { orderId: event.orderId, total: plan.total, slices, batches, created, announced };
}

/** Reads the recorded plan back in pages and publishes it as slices, holding one page at a time. */
async function publishPlan(
  deps: CoordinatorDeps,
  orderId: string,
  total: number,
): Promise<{ slices: number; batches: number }> {
  const limits = { sliceSize: deps.config.sliceSize, maxSlices: deps.config.maxSlices };
  const cutter = new SliceCutter(orderId, effectiveSliceSize(total, limits));
  let pending: SliceMessage[] = [];
  let batches = 0;
  const publish = async () => {
    if (pending.length === 0) return;
    batches += (await publishSlices(deps.sns, deps.config.sliceTopicArn, pending, deps.publish)).batches;
    pending = [];
  };
  for (let from = 0; from < total; from += READ_PAGE) {
    const count = Math.min(READ_PAGE, total - from);
    const items = await deps.ledger.plannedKeys(orderId, from, count);
    if (items.length !== count) {
      throw new ThumbsError(
        `The plan of order "${orderId}" lost ${count - items.length} of images ${from}-${from + count - 1} in Redis ` +
          "while it was published (evicted?). Re-send its order-completed event to plan it again.",
      );
    }
    for (const item of items) {
      const slice = cutter.add(item);
      if (slice) pending.push(slice);
    }
    if (pending.length >= PUBLISH_GROUP) await publish();
  }
  const last = cutter.flush();
  if (last) pending.push(last);
  await publish();
  return { slices: cutter.count, batches };
}

/** The EventBridge event id, when the input is an EventBridge event. */
function eventId(input: unknown): string | undefined {
  const id = (input as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length > 0 && id.length <= 128 ? id : undefined;
}
