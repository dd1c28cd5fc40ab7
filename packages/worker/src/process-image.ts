import { ImageFailure, type PlannedOrder, type SliceItem, type SliceMessage } from "@thumbs/core";
import { fetchOriginal } from "./fetch-original.js";
import { makeAndStoreThumbnails } from "./make-and-store.js";
import type { ImageOutcome, WorkerDeps } from "./resize-slice.js";
import { removeThumbnails, type StoreTarget } from "./store-thumbnails.js";

/**
 * Time kept back from an image's deadline when the invocation's end bounds it: enough to record the
 * outcome and publish follow-ups before Lambda would stop the invocation.
 */
export const RECORD_RESERVE_MS = 3_000;

/** One image's outcome; `counted`: this delivery changed the order's counters (not a duplicate). */
export interface Processed {
  outcome: ImageOutcome;
  completed: boolean;
  counted: boolean;
}

/** Shared by the images of one invocation: how many it has started (the first always starts). */
export interface InvocationState {
  started: number;
}

/** An image whose original has been fetched (or failed to be), waiting for its lane to resize it. */
export interface Fetched {
  item: SliceItem;
  bytes?: Buffer;
  /** Why the fetch failed: classified with the rest of the image's work (see workImage). */
  error?: unknown;
  fetchSignal: AbortSignal;
  /** How long the fetch took: it counts against the image's deadline; waiting for the lane does not. */
  fetchMs: number;
  /** When the fetch started and ended (performance.now()). */
  startedAt: number;
  fetchedAt: number;
}

/** An image that has been through its lane (or handed back before it started), not yet recorded. */
export interface Worked {
  item: SliceItem;
  failure?: ImageFailure;
  /** The time the image held its lane: see workImage. */
  ms: number;
}

/**
 * Fetches, resizes, stores and records one planned image, with nothing overlapped: how suspects run
 * (resize-slice.ts), alone. The image gets a deadline: IMAGE_TIMEOUT_SECONDS, or what is left of the
 * invocation less RECORD_RESERVE_MS if that is sooner. S3 requests are aborted and decoding times out
 * at it, so an image is never cut off by Lambda mid-write; one cut off by the invocation's end is re-queued.
 */
export async function processImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  item: SliceItem,
  invocation: InvocationState,
): Promise<Processed> {
  const fetched = await fetchImage(deps, slice, order, item, invocation);
  if ("outcome" in fetched) return fetched;
  return recordImage(deps, slice, order, await workImage(deps, slice, order, fetched));
}

/**
 * The first half of an image: unless the invocation is nearly out of time (then it is handed back
 * unstarted), records its start in the ledger (before any byte is read, so a process that dies on it
 * counts against it: resize-slice.ts) and fetches its original, under the image's deadline.
 * A lane calls this for its next image while its current one resizes.
 */
export async function fetchImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  item: SliceItem,
  invocation: InvocationState,
): Promise<Fetched | Processed> {
  const { config, s3, ledger } = deps;
  // Every invocation starts at least one image, so a slice handed back again and again still progresses.
  if (
    invocation.started > 0 &&
    (deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) < config.handbackMarginMs
  ) {
    return { outcome: { ...item, status: "handed-back", ms: 0 }, completed: false, counted: false };
  }
  invocation.started += 1;
  await ledger.startImage(slice.orderId, item.index, deps.owner);
  const startedAt = performance.now();
  const fetchSignal = AbortSignal.timeout(Math.ceil(deadline(deps, 0).deadlineMs));
  const fetched = { item, fetchSignal, startedAt };
  try {
    const bytes = await fetchOriginal(
      s3,
      order.bucket,
      item.key,
      config.maxInputBytes,
      fetchSignal,
      deps.buffers,
    );
    const fetchedAt = performance.now();
    return { ...fetched, bytes, fetchedAt, fetchMs: fetchedAt - startedAt };
  } catch (error) {
    const fetchedAt = performance.now();
    return { ...fetched, error, fetchedAt, fetchMs: fetchedAt - startedAt };
  }
}

/**
 * The second half, on the image's lane: sniffs, resizes and stores it under what is left of its
 * deadline (the fetch's time counts; time the fetched original waited for the lane does not), and
 * gives its input buffer back. `ms` is the time the image held its lane: from when its lane was free
 * for it (`laneFreeAt`, the previous image stored), or from its fetch if that began later, to its
 * thumbnails stored. A fetch that ran ahead while the previous image resized is not in it.
 */
export async function workImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  fetched: Fetched,
  laneFreeAt = fetched.startedAt,
): Promise<Worked> {
  const { config, s3 } = deps;
  const laneAt = performance.now();
  const heldFrom = Math.max(laneFreeAt, fetched.startedAt);
  const { deadlineMs, cutByInvocation } = deadline(deps, fetched.fetchMs);
  let failure: ImageFailure | undefined;
  let signal = fetched.fetchSignal;
  try {
    if (fetched.error !== undefined) throw fetched.error;
    const bytes = fetched.bytes!;
    const leftMs = deadlineMs - fetched.fetchMs;
    signal = AbortSignal.timeout(Math.max(1, Math.ceil(leftMs)));
    const target = thumbnailTarget(config, slice, order, fetched.item);
    const job = { output: order.output, maxInputPixels: config.maxInputPixels, leftMs, target, signal };
    // libvips no longer reads the original once the resize settles: its buffer goes back to the pool.
    await makeAndStoreThumbnails(s3, bytes, job, () => deps.buffers?.give(bytes));
  } catch (error) {
    const elapsedMs = fetched.fetchMs + (performance.now() - laneAt);
    failure = classify(error, signal, { cutByInvocation, deadlineMs, elapsedMs });
  }
  return { item: fetched.item, ...(failure ? { failure } : {}), ms: performance.now() - heldFrom };
}

/**
 * Records an image's outcome under its planned index: done, failed (its part-written thumbnails
 * removed first), or, for a Transient failure with retries left, deferred (re-queued by the slice).
 * Outside any try on purpose: if Redis (or S3, clearing a part-written image) is unreachable the
 * slice must fail and be redelivered.
 */
export async function recordImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  worked: Worked,
): Promise<Processed> {
  const { config, s3, ledger } = deps;
  const { item, failure, ms } = worked;
  if (failure?.failureClass === "Transient" && slice.attempt < config.maxTransientRetries) {
    await ledger.releaseImages(slice.orderId, [item.index]);
    return {
      outcome: { ...item, status: "deferred", failureClass: "Transient", ms },
      completed: false,
      counted: false,
    };
  }
  if (failure)
    await removeThumbnails(s3.client, thumbnailTarget(config, slice, order, item), order.output.sizes);
  const recorded = failure
    ? await ledger.recordFailed(slice.orderId, { ...item, sliceIndex: slice.sliceIndex, failure })
    : await ledger.recordDone(slice.orderId, item.index);
  const outcome: ImageOutcome = failure
    ? { ...item, status: "failed", failureClass: failure.failureClass, ms }
    : { ...item, status: "done", ms };
  return { outcome, completed: recorded.completed, counted: recorded.counted };
}

/** The image's deadline, of which `spentMs` has been used; `cutByInvocation`: the invocation's end sets it. */
function deadline(deps: WorkerDeps, spentMs: number): { deadlineMs: number; cutByInvocation: boolean } {
  const budgetMs = deps.config.imageTimeoutSeconds * 1000;
  const invocationMs = (deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) - RECORD_RESERVE_MS + spentMs;
  return {
    deadlineMs: Math.max(1, Math.min(budgetMs, invocationMs)),
    cutByInvocation: invocationMs < budgetMs,
  };
}

/** Where one image's thumbnails go. */
export function thumbnailTarget(
  config: WorkerDeps["config"],
  slice: SliceMessage,
  order: PlannedOrder,
  item: SliceItem,
): StoreTarget {
  return {
    bucket: config.thumbnailBucket,
    prefix: config.thumbnailPrefix,
    orderId: slice.orderId,
    sourceKey: item.key,
    format: order.output.format,
  };
}

function classify(
  error: unknown,
  signal: AbortSignal,
  deadline: { cutByInvocation: boolean; deadlineMs: number; elapsedMs: number },
): ImageFailure {
  const seconds = (deadline.deadlineMs / 1000).toFixed(1);
  // sharp's own timeout counts whole seconds, so it may fire up to a second before the signal does.
  const outOfTime = signal.aborted || deadline.elapsedMs >= deadline.deadlineMs - 1000;
  if (outOfTime && deadline.cutByInvocation) {
    return new ImageFailure(
      "Transient",
      `The invocation ran out of time ${seconds} s into this image; it is tried again in a new invocation.`,
      { cause: error },
    );
  }
  if (signal.aborted && !(error instanceof ImageFailure && error.failureClass === "TooLarge")) {
    return new ImageFailure(
      "Transient",
      `S3 did not answer within the image's ${seconds} s deadline (IMAGE_TIMEOUT_SECONDS).`,
      { cause: error },
    );
  }
  if (error instanceof ImageFailure) return error;
  const name = error instanceof Error ? error.name : "error";
  return new ImageFailure("Internal", `Unexpected ${name} while resizing.`, { cause: error });
}
