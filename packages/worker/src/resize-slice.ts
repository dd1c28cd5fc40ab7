import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  announceCompletion,
  ImageFailure,
  type OrderLedger,
  type PlannedOrder,
  type SliceItem,
  type SliceMessage,
} from "@thumbs/core";
import pLimit from "p-limit";
import { checkAgainstPlan } from "./check-plan.js";
import type { WorkerConfig } from "./config.js";
import { SliceError } from "./errors.js";
import { followUpSlices, publishFollowUps } from "./follow-up.js";
import { type InvocationState, type Processed, processImage } from "./process-image.js";

export interface WorkerDeps {
  s3: S3Client;
  sns: SNSClient;
  ledger: OrderLedger;
  config: WorkerConfig;
  /** Images in flight at once (see concurrency.ts). */
  concurrency: number;
  /** Time left in this invocation (Lambda's context.getRemainingTimeInMillis); unbounded when absent. */
  remainingMs?: () => number;
}

export interface ImageOutcome extends SliceItem {
  /**
   * done/failed: recorded. skipped: already done by an earlier delivery. deferred: Transient, re-queued
   * for a later attempt. handed-back: not started, the invocation was running out of time.
   */
  status: "done" | "failed" | "skipped" | "deferred" | "handed-back";
  failureClass?: ImageFailure["failureClass"];
  /** Wall time of fetch + resize + store for this image. */
  ms: number;
}

export interface SliceReport {
  orderId: string;
  sliceIndex: number;
  attempt: number;
  done: number;
  failed: number;
  /** Images already done by an earlier delivery of this slice. */
  skipped: number;
  deferred: number;
  handedBack: number;
  /** This slice accounted for the order's last image and emitted the completion signal. */
  completedOrder: boolean;
  /** This slice published the order's order-thumbnails-completed event. */
  announcedOrder: boolean;
  images: ImageOutcome[];
  ms: number;
}

/** Starts of one image without an outcome after which it is recorded as Crashed instead of tried again. */
export const CRASH_LIMIT = 2;

/**
 * Resizes every image of one slice, each under its planned index and key (the slice is refused whole
 * if it does not match the plan: check-plan.ts). One image's failure never fails the others: it is
 * classified and recorded, except a Transient one with retries left, which is re-queued.
 *
 * Images that earlier invocations died on are suspects: they run one at a time, after the rest, so a
 * poison image (one that kills the process) dies alone and takes no neighbour with it; after CRASH_LIMIT
 * such deaths it is recorded as Crashed and the rest of the slice goes on. Images not started when the
 * invocation nears its time limit are handed back through SNS. Only a failure to record (Redis down) or
 * to hand back fails the slice, which is then redelivered; a redelivery skips what is already done.
 */
export async function resizeSlice(deps: WorkerDeps, slice: SliceMessage): Promise<SliceReport> {
  const started = performance.now();
  const { order, items: states } = await deps.ledger.sliceState(
    slice.orderId,
    slice.items.map((i) => i.index),
  );
  checkAgainstPlan(slice, order, states);

  const invocation: InvocationState = { started: 0 };
  const run = (item: SliceItem) => processImage(deps, slice, order, item, invocation);
  const processed: Processed[] = new Array(slice.items.length);
  const fresh: number[] = [];
  const suspects: number[] = [];
  for (const [i, item] of slice.items.entries()) {
    const state = states[i]!;
    if (state.done) processed[i] = unchanged({ ...item, status: "skipped", ms: 0 });
    else if (state.unfinishedStarts >= CRASH_LIMIT)
      processed[i] = await recordCrashed(deps, slice, item, state);
    else (state.unfinishedStarts > 0 ? suspects : fresh).push(i);
  }
  // Fresh images first, at full concurrency, so they are done before any suspect can kill the process;
  // then each suspect alone.
  const limit = pLimit(deps.concurrency);
  const results = await Promise.all(fresh.map((i) => limit(() => run(slice.items[i]!))));
  for (const [n, i] of fresh.entries()) processed[i] = results[n]!;
  for (const i of suspects) processed[i] = await run(slice.items[i]!);

  const images = processed.map((p) => p.outcome);
  const withStatus = (status: ImageOutcome["status"]) => images.filter((i) => i.status === status);
  await publishFollowUps(
    deps.sns,
    deps.config.sliceTopicArn,
    followUpSlices(slice, withStatus("handed-back"), withStatus("deferred")),
  );
  return {
    orderId: slice.orderId,
    sliceIndex: slice.sliceIndex,
    attempt: slice.attempt,
    done: withStatus("done").length,
    failed: withStatus("failed").length,
    skipped: withStatus("skipped").length,
    deferred: withStatus("deferred").length,
    handedBack: withStatus("handed-back").length,
    completedOrder: processed.some((p) => p.completed),
    announcedOrder: await announce(deps, slice, order),
    images,
    ms: performance.now() - started,
  };
}

const unchanged = (outcome: ImageOutcome): Processed => ({ outcome, completed: false, counted: false });

async function recordCrashed(
  deps: WorkerDeps,
  slice: SliceMessage,
  item: SliceItem,
  state: { unfinishedStarts: number },
): Promise<Processed> {
  const failure = new ImageFailure(
    "Crashed",
    `The worker died ${state.unfinishedStarts} times while resizing this image (out of memory, a crash in ` +
      "the decoder, or the function timeout), so it is not tried again automatically.",
  );
  const recorded = await deps.ledger.recordFailed(slice.orderId, {
    ...item,
    sliceIndex: slice.sliceIndex,
    failure,
  });
  return {
    outcome: { ...item, status: "failed", failureClass: "Crashed", ms: 0 },
    completed: recorded.completed,
    counted: recorded.counted,
  };
}

/**
 * After every slice run, redeliveries included: publishes the order's completion event if the order is
 * complete and it was not sent yet (order-events.ts). If publishing fails the slice fails, and its
 * redelivery, under the same claimant, publishes it.
 */
async function announce(deps: WorkerDeps, slice: SliceMessage, order: PlannedOrder): Promise<boolean> {
  if (!deps.config.orderEventsTopicArn || order.total === 0) return false;
  try {
    return await announceCompletion(
      deps.sns,
      deps.config.orderEventsTopicArn,
      deps.ledger,
      slice.orderId,
      `slice:${slice.sliceIndex}`,
    );
  } catch (error) {
    throw new SliceError(`Order ${slice.orderId} is complete but its completion event was not published.`, {
      cause: error,
    });
  }
}
