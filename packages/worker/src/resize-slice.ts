import type { SNSClient } from "@aws-sdk/client-sns";
import {
  announceCompletion,
  ImageFailure,
  type ItemState,
  type OrderLedger,
  type PlannedOrder,
  type SliceItem,
  type SliceMessage,
} from "@thumbs/core";
import { checkAgainstPlan } from "./check-plan.js";
import type { WorkerConfig } from "./config.js";
import { SliceError } from "./errors.js";
import { followUpSlices, publishFollowUps, REQUEUE_RESERVE_MS, requeueDelayMs } from "./follow-up.js";
import { awaitInFlight, holdLease, inFlightElsewhere } from "./in-flight.js";
import { InputBuffers } from "./input-buffers.js";
import { runLanes } from "./lanes.js";
import { type InvocationState, type Processed, processImage, thumbnailTarget } from "./process-image.js";
import type { S3Objects } from "./s3-objects.js";
import { removeThumbnails } from "./store-thumbnails.js";

export interface WorkerDeps {
  /** The GETs and PUTs of images (s3-objects.ts); its `client` for everything else. */
  s3: S3Objects;
  sns: SNSClient;
  ledger: OrderLedger;
  config: WorkerConfig;
  /** Images in flight at once (see concurrency.ts). */
  concurrency: number;
  /** Time left in this invocation (Lambda's context.getRemainingTimeInMillis); unbounded when absent. */
  remainingMs?: () => number;
  /** Names this invocation (Lambda's request id): it holds a lease under it while it runs (in-flight.ts). */
  owner: string;
  /** Where originals are read into (input-buffers.ts); default: one pool per process. */
  buffers?: InputBuffers;
}

export interface ImageOutcome extends SliceItem {
  /**
   * done/failed: recorded. skipped: already done by an earlier delivery. deferred: Transient, re-queued
   * for a later attempt. handed-back: not started, the invocation was running out of time.
   */
  status: "done" | "failed" | "skipped" | "deferred" | "handed-back";
  failureClass?: ImageFailure["failureClass"];
  /**
   * Wall time the image held its lane: fetch + sniff + resize + store, less any part of the fetch that
   * ran ahead while its lane finished the previous image (lanes.ts).
   */
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
 * such deaths it is recorded as Crashed and the rest of the slice goes on. A start counts as a death only
 * once the invocation that made it has lost its lease (in-flight.ts): images another live invocation is
 * on (a duplicate delivery) are waited for, not run twice or taken for crashed. Images not started when the
 * invocation nears its time limit are handed back through SNS. Only a failure to record (Redis down) or
 * to hand back fails the slice, which is then redelivered; a redelivery skips what is already done.
 */
export async function resizeSlice(given: WorkerDeps, slice: SliceMessage): Promise<SliceReport> {
  const started = performance.now();
  const deps = given.buffers ? given : { ...given, buffers: processBuffers(given.concurrency) };
  const { order, items: states } = await deps.ledger.sliceState(
    slice.orderId,
    slice.items.map((i) => i.index),
  );
  checkAgainstPlan(slice, order, states);
  const releaseLease = await holdLease(deps.ledger, deps.owner);
  try {
    return await resizePlannedSlice(deps, slice, order, states, started);
  } finally {
    await releaseLease();
  }
}

async function resizePlannedSlice(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  states: ItemState[],
  started: number,
): Promise<SliceReport> {
  const invocation: InvocationState = { started: 0 };
  const run = (item: SliceItem) => processImage(deps, slice, order, item, invocation);
  const outcomes = new Map<number, Processed>();
  const fresh: SliceItem[] = [];
  const suspects: Array<{ item: SliceItem; state: ItemState }> = [];
  const elsewhere: SliceItem[] = [];
  const busy = await inFlightElsewhere(deps.ledger, deps.owner, states);
  for (const [i, item] of slice.items.entries()) {
    const state = states[i]!;
    if (state.done) outcomes.set(item.index, skipped(item));
    // A redelivery does not run a Crashed image again (it would kill this invocation too); an admin retry does.
    else if (state.failureClass === "Crashed" && !slice.retry) outcomes.set(item.index, skipped(item));
    else if (state.plannedKey === undefined)
      outcomes.set(item.index, await recordUnrun(deps, slice, item, planLost()));
    else if (busy[i]) elsewhere.push(item);
    else if (state.unfinishedStarts > 0) suspects.push({ item, state });
    else fresh.push(item);
  }
  // Fresh images first, at full concurrency, so they are done before any suspect can kill the process.
  const done = await runLanes(deps, slice, order, fresh, invocation);
  for (const [n, item] of fresh.entries()) outcomes.set(item.index, done[n]!);
  // Images another invocation is on: wait for its outcome instead of running them twice at once.
  const waited = await awaitInFlight(deps, slice.orderId, elsewhere);
  for (const item of waited.settled) outcomes.set(item.index, skipped(item));
  for (const item of waited.handedBack)
    outcomes.set(item.index, unchanged({ ...item, status: "handed-back", ms: 0 }));
  // Then each suspect alone; after CRASH_LIMIT deaths on it, an image is recorded Crashed instead.
  for (const { item, state } of [...suspects, ...waited.abandoned]) {
    const outcome =
      state.unfinishedStarts >= CRASH_LIMIT
        ? await recordUnrun(deps, slice, item, crashed(state.unfinishedStarts), order)
        : await run(item);
    outcomes.set(item.index, outcome);
  }
  const processed = slice.items.map((item) => outcomes.get(item.index)!);

  const images = processed.map((p) => p.outcome);
  const withStatus = (status: ImageOutcome["status"]) => images.filter((i) => i.status === status);
  const followUps = followUpSlices(slice, withStatus("handed-back"), withStatus("deferred"));
  const availableMs = (deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) - REQUEUE_RESERVE_MS;
  await publishFollowUps(
    deps.sns,
    deps.config.sliceTopicArn,
    followUps,
    followUps.deferred ? requeueDelayMs(slice.attempt, availableMs) : 0,
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

// One pool per process, as Lambda runs one invocation at a time: each lane holds at most two
// originals (lanes.ts), so that is what the pool keeps.
let pool: { buffers: InputBuffers; lanes: number } | undefined;
function processBuffers(lanes: number): InputBuffers {
  if (!pool || pool.lanes < lanes) pool = { buffers: new InputBuffers(lanes * 2), lanes };
  return pool.buffers;
}

const unchanged = (outcome: ImageOutcome): Processed => ({ outcome, completed: false, counted: false });
const skipped = (item: SliceItem): Processed => unchanged({ ...item, status: "skipped", ms: 0 });

/**
 * Records an image as failed without running it: its plan entry was lost (evicted), or it killed its
 * worker CRASH_LIMIT times. `clear` removes the thumbnails a dead invocation may have stored before it
 * could record them (a failed image has none); it is only asked for planned keys.
 */
async function recordUnrun(
  deps: WorkerDeps,
  slice: SliceMessage,
  item: SliceItem,
  failure: ImageFailure,
  clear?: PlannedOrder,
): Promise<Processed> {
  if (clear)
    await removeThumbnails(
      deps.s3.client,
      thumbnailTarget(deps.config, slice, clear, item),
      clear.output.sizes,
    );
  const recorded = await deps.ledger.recordFailed(slice.orderId, {
    ...item,
    sliceIndex: slice.sliceIndex,
    failure,
  });
  return {
    outcome: { ...item, status: "failed", failureClass: failure.failureClass, ms: 0 },
    completed: recorded.completed,
    counted: recorded.counted,
  };
}

const planLost = () =>
  new ImageFailure(
    "ProcessingFailed",
    "The order's plan lost this image in Redis (evicted?), so it was not resized: re-send the order-completed " +
      "event to plan the order again.",
  );

const crashed = (deaths: number) =>
  new ImageFailure(
    "Crashed",
    `The worker died ${deaths} times while resizing this image (out of memory, a crash in the decoder, or ` +
      "the function timeout), so it is not tried again automatically.",
  );

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
      // The slice is the unit retried under one name; the invocation tells a duplicate delivery
      // running at the same time from a retry of one that died (ledger.claimAnnouncement).
      `slice:${slice.sliceIndex}#${deps.owner}`,
    );
  } catch (error) {
    throw new SliceError(`Order ${slice.orderId} is complete but its completion event was not published.`, {
      cause: error,
    });
  }
}
