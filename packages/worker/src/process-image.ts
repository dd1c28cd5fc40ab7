import { ImageFailure, type PlannedOrder, type SliceItem, type SliceMessage } from "@thumbs/core";
import { fetchOriginal } from "./fetch-original.js";
import { makeThumbnails } from "./resize.js";
import type { ImageOutcome, WorkerDeps } from "./resize-slice.js";
import { sniffImage } from "./sniff.js";
import { removeThumbnails, type StoreTarget, storeThumbnails } from "./store-thumbnails.js";

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

/**
 * Fetches, resizes and stores one planned image, then records its outcome under its planned index and
 * key. The image gets a deadline: IMAGE_TIMEOUT_SECONDS, or what is left of the invocation less
 * RECORD_RESERVE_MS if that is sooner. S3 requests are aborted and decoding times out at it, so an
 * image is never cut off by Lambda mid-write; one cut off by the invocation's end is re-queued.
 */
export async function processImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  item: SliceItem,
  invocation: InvocationState,
): Promise<Processed> {
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
  const started = performance.now();
  const budgetMs = config.imageTimeoutSeconds * 1000;
  const invocationMs = (deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) - RECORD_RESERVE_MS;
  const deadlineMs = Math.max(1, Math.min(budgetMs, invocationMs));
  const signal = AbortSignal.timeout(deadlineMs);
  let failure: ImageFailure | undefined;
  try {
    const bytes = await fetchOriginal(s3, order.bucket, item.key, config.maxInputBytes, signal);
    sniffImage(bytes);
    const leftMs = deadlineMs - (performance.now() - started);
    const thumbnails = await makeThumbnails(bytes, order.output, {
      maxInputPixels: config.maxInputPixels,
      timeoutSeconds: Math.max(1, Math.floor(leftMs / 1000)),
    });
    signal.throwIfAborted();
    await storeThumbnails(s3, thumbnailTarget(config, slice, order, item), thumbnails, signal);
  } catch (error) {
    const elapsedMs = performance.now() - started;
    failure = classify(error, signal, { cutByInvocation: invocationMs < budgetMs, deadlineMs, elapsedMs });
  }
  const ms = performance.now() - started;
  if (failure?.failureClass === "Transient" && slice.attempt < config.maxTransientRetries) {
    await ledger.releaseImages(slice.orderId, [item.index]);
    return {
      outcome: { ...item, status: "deferred", failureClass: "Transient", ms },
      completed: false,
      counted: false,
    };
  }
  // Recording is outside the try on purpose: if Redis (or S3, clearing a part-written image) is
  // unreachable the slice must fail and be redelivered.
  if (failure) await removeThumbnails(s3, thumbnailTarget(config, slice, order, item), order.output.sizes);
  const recorded = failure
    ? await ledger.recordFailed(slice.orderId, { ...item, sliceIndex: slice.sliceIndex, failure })
    : await ledger.recordDone(slice.orderId, item.index);
  const outcome: ImageOutcome = failure
    ? { ...item, status: "failed", failureClass: failure.failureClass, ms }
    : { ...item, status: "done", ms };
  return { outcome, completed: recorded.completed, counted: recorded.counted };
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
