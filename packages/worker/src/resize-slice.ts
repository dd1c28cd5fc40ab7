import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import { ImageFailure, type OrderLedger, type SliceMessage } from "@thumbs/core";
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
        ? {
            outcome: { index: item.index, key: item.key, status: "skipped", ms: 0 } as ImageOutcome,
            completed: false,
          }
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
    images,
    ms: performance.now() - started,
  };
}

async function processImage(
  deps: WorkerDeps,
  slice: SliceMessage,
  item: SliceItem,
  invocation: { started: number },
): Promise<{ outcome: ImageOutcome; completed: boolean }> {
  const { config, s3, ledger } = deps;
  // Every invocation starts at least one image, so a slice handed back again and again still progresses.
  const late =
    invocation.started > 0 && deps.remainingMs !== undefined && deps.remainingMs() < config.handbackMarginMs;
  if (item.key !== undefined && late) {
    return { outcome: { index: item.index, key: item.key, status: "handed-back", ms: 0 }, completed: false };
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
  return { outcome, completed: recorded.completed };
}
