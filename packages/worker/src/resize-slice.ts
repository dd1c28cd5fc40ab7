import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import { announceCompletion, ImageFailure, type OrderLedger, type SliceMessage } from "@thumbs/core";
import pLimit from "p-limit";
import type { WorkerConfig } from "./config.js";
import { SliceError } from "./errors.js";
import { fetchOriginal } from "./fetch-original.js";
import { followUpSlices, publishFollowUps } from "./follow-up.js";
import { makeThumbnails } from "./resize.js";
import { resolveSliceItems, type SliceItem } from "./resolve-keys.js";
import { sniffImage } from "./sniff.js";
import { storeThumbnails } from "./store-thumbnails.js";

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

export interface ImageOutcome {
  index: number;
  key: string | undefined;
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

/**
 * Resizes every image of one slice. One image's failure never fails the others: it is classified and
 * recorded, except a Transient one with retries left, which is re-queued. Images not started when the
 * invocation nears its time limit are handed back through SNS. Only a failure to record (Redis down) or
 * to hand back fails the slice, which is then redelivered; a redelivery skips what is already done and
 * counts nothing twice.
 */
export async function resizeSlice(deps: WorkerDeps, slice: SliceMessage): Promise<SliceReport> {
  const started = performance.now();
  const items = await resolveSliceItems(deps.s3, slice).catch((error: unknown) => {
    throw new SliceError(
      `Could not list the key range of slice ${slice.sliceIndex} of order ${slice.orderId}.`,
      {
        cause: error,
      },
    );
  });
  const alreadyDone = await deps.ledger.doneIndices(
    slice.orderId,
    items.map((i) => i.index),
  );
  const limit = pLimit(deps.concurrency);
  const invocation = { started: 0 };
  const processed = await Promise.all(
    items.map((item) =>
      alreadyDone.has(item.index)
        ? ({
            outcome: { index: item.index, key: item.key, status: "skipped", ms: 0 },
            completed: false,
            counted: false,
          } satisfies Processed)
        : limit(() => processImage(deps, slice, item, invocation)),
    ),
  );
  const images = processed.map((p) => p.outcome);
  const withStatus = (status: ImageOutcome["status"]) => images.filter((i) => i.status === status);
  await publishFollowUps(
    deps.sns,
    deps.config.sliceTopicArn,
    followUpSlices(slice, withStatus("handed-back"), withStatus("deferred")),
  );
  const completedOrder = processed.some((p) => p.completed);
  // The slice that completed the order announces it. A delivery that counted nothing (every image
  // already done or failed) may be the redelivery of one that completed the order but could not
  // announce it, so it checks too. Slices that counted images but did not complete the order never
  // check, so two slices ending together do not both announce.
  const announcedOrder =
    completedOrder || processed.every((p) => !p.counted) ? await announce(deps, slice.orderId) : false;
  return {
    orderId: slice.orderId,
    sliceIndex: slice.sliceIndex,
    attempt: slice.attempt,
    done: withStatus("done").length,
    failed: withStatus("failed").length,
    skipped: withStatus("skipped").length,
    deferred: withStatus("deferred").length,
    handedBack: withStatus("handed-back").length,
    completedOrder,
    announcedOrder,
    images,
    ms: performance.now() - started,
  };
}

/**
 * Publishes the order's completion event if it is complete and not yet announced. If publishing fails
 * the slice fails, and its redelivery, whose images are all done by then, publishes it instead.
 */
async function announce(deps: WorkerDeps, orderId: string): Promise<boolean> {
  if (!deps.config.orderEventsTopicArn) return false;
  try {
    return await announceCompletion(deps.sns, deps.config.orderEventsTopicArn, deps.ledger, orderId);
  } catch (error) {
    throw new SliceError(`Order ${orderId} is complete but its completion event was not published.`, {
      cause: error,
    });
  }
}

/** One image's outcome; `counted`: this delivery changed the order's counters (not a duplicate). */
interface Processed {
  outcome: ImageOutcome;
  completed: boolean;
  counted: boolean;
}

async function processImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  item: SliceItem,
  invocation: { started: number },
): Promise<Processed> {
  const { config, s3, ledger } = deps;
  // Every invocation starts at least one image, so a slice handed back again and again still progresses.
  const late =
    invocation.started > 0 && deps.remainingMs !== undefined && deps.remainingMs() < config.handbackMarginMs;
  if (item.key !== undefined && late) {
    return {
      outcome: { index: item.index, key: item.key, status: "handed-back", ms: 0 },
      completed: false,
      counted: false,
    };
  }
  invocation.started += 1;
  const started = performance.now();
  let failure: ImageFailure | undefined;
  try {
    if (item.key === undefined) {
      throw new ImageFailure(
        "NotFound",
        "An object listed when the order was planned is gone from the bucket.",
      );
    }
    const bytes = await fetchOriginal(s3, slice.bucket, item.key, config.maxInputBytes);
    sniffImage(bytes);
    const thumbnails = await makeThumbnails(bytes, slice.output, {
      maxInputPixels: config.maxInputPixels,
      timeoutSeconds: config.imageTimeoutSeconds,
    });
    await storeThumbnails(
      s3,
      {
        bucket: config.thumbnailBucket,
        prefix: config.thumbnailPrefix,
        orderId: slice.orderId,
        sourceKey: item.key,
        format: slice.output.format,
      },
      thumbnails,
    );
  } catch (error) {
    failure =
      error instanceof ImageFailure
        ? error
        : new ImageFailure(
            "Internal",
            `Unexpected ${error instanceof Error ? error.name : "error"} while resizing.`,
            {
              cause: error,
            },
          );
  }
  const ms = performance.now() - started;
  if (failure?.failureClass === "Transient" && slice.attempt < config.maxTransientRetries) {
    return {
      outcome: { index: item.index, key: item.key, status: "deferred", failureClass: "Transient", ms },
      completed: false,
      counted: false,
    };
  }
  // Recording is outside the try on purpose: if Redis is unreachable the slice must fail and be redelivered.
  const recorded = failure
    ? await ledger.recordFailed(slice.orderId, {
        index: item.index,
        key: item.key ?? "(unknown: removed after planning)",
        sliceIndex: slice.sliceIndex,
        failure,
      })
    : await ledger.recordDone(slice.orderId, item.index);
  const outcome: ImageOutcome = failure
    ? { index: item.index, key: item.key, status: "failed", failureClass: failure.failureClass, ms }
    : { index: item.index, key: item.key, status: "done", ms };
  return { outcome, completed: recorded.completed, counted: recorded.counted };
}
