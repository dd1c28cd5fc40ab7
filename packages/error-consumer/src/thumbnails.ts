import { GetObjectCommand } from "@aws-sdk/client-s3";
import {
  announceCompletion,
  classifyS3Error,
  ImageFailure,
  ObjectKeySchema,
  thumbnailKey,
} from "@thumbs/core";
import { fetchOriginal, makeAndStoreThumbnails } from "@thumbs/worker";
import { z } from "zod";
import { DEFAULT_ON_DEMAND_TIMEOUT_SECONDS, DEFAULT_THUMBNAIL_URL_SECONDS } from "./config.js";
import type { AdminDeps } from "./deps.js";
import { HttpError } from "./errors.js";
import { type ApiResponse, decodePathSegment, json, parseInput, WholeNumberParam } from "./http.js";
import { presignGetUrls } from "./presign.js";

/** How long a client should wait before asking again for a thumbnail that failed transiently. */
const RETRY_AFTER_SECONDS = 5;

// Thumbnail keys are deterministic, but a retry after a fixed original rewrites the same key: cache briefly.
const CACHE_CONTROL = "private, max-age=300";

type Stored = { body: Uint8Array; contentType: string; etag: string | undefined };

async function readStored(deps: AdminDeps, key: string, signal?: AbortSignal): Promise<Stored | null> {
  try {
    const object = await deps.s3.client.send(
      new GetObjectCommand({ Bucket: deps.config.thumbnailBucket, Key: key }),
      {
        abortSignal: signal,
      },
    );
    return {
      body: await object.Body!.transformToByteArray(),
      contentType: object.ContentType ?? "application/octet-stream",
      etag: object.ETag,
    };
  } catch (error) {
    if (classifyS3Error(error, "read").failureClass === "NotFound") return null;
    throw error;
  }
}

const image = (stored: Stored, source: "stored" | "generated"): ApiResponse => ({
  status: 200,
  headers: {
    "content-type": stored.contentType,
    "cache-control": CACHE_CONTROL,
    "x-thumbnail-source": source,
    ...(stored.etag ? { etag: stored.etag } : {}),
  },
  body: stored.body,
});

/**
 * Presigned GET URLs for stored thumbnails, one per key, all valid until the same `expiresAt`, so a
 * browser loads them straight from S3: no API call (on AWS, no Lambda invocation) per tile, and no
 * public bucket. Signing is local (no request is made). `null` when turned off (`thumbnailUrlSeconds`
 * 0): clients then use the API route.
 *
 * On AWS the URLs are signed with the function's role session, so they stop working when that session
 * ends even if `expiresAt` is later; the dashboard then falls back to the API route.
 */
export async function presignThumbnails(
  deps: AdminDeps,
  keys: string[],
): Promise<{ urls: string[]; expiresAt: string } | null> {
  const seconds = deps.config.thumbnailUrlSeconds ?? DEFAULT_THUMBNAIL_URL_SECONDS;
  if (seconds <= 0) return null;
  const signingDate = new Date();
  const urls = await presignGetUrls(deps.s3.client, deps.config.thumbnailBucket, keys, {
    expiresIn: seconds,
    signingDate,
  });
  return { urls, expiresAt: new Date(signingDate.getTime() + seconds * 1000).toISOString() };
}

/** A stored thumbnail, by the file name the image listing returned. */
export async function storedThumbnail(
  deps: AdminDeps,
  orderId: string,
  size: string,
  rawName: string,
): Promise<ApiResponse> {
  const name = parseInput(
    z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, "expected a thumbnail file name"),
    decodePathSegment(rawName, "thumbnail name"),
    "thumbnail name",
  );
  const stored = await readStored(deps, `${deps.config.thumbnailPrefix}${orderId}/${size}/${name}`);
  if (!stored) throw new HttpError(404, `No ${size} thumbnail named ${name} in order ${orderId}.`);
  return image(stored, "stored");
}

const ImageRef = z.union([
  z.object({ index: WholeNumberParam, key: z.undefined().optional() }),
  z.object({ key: ObjectKeySchema, index: z.undefined().optional() }),
]);

/**
 * The thumbnail of one image of the order at a named size, the image named by its planned `index` or
 * its planned `key`: served from the thumbnails bucket when there, otherwise made on demand from the
 * original, stored (every size, as the worker would) and served. Only planned images of the order: any
 * other key is refused before anything is read or stored. An image that had failed and now succeeds is
 * moved from failed to done, so the counters stay true.
 */
export async function thumbnailOnDemand(
  deps: AdminDeps,
  orderId: string,
  size: string,
  query: Record<string, string | undefined>,
): Promise<ApiResponse> {
  const ref = parseInput(
    ImageRef,
    { index: query.index, key: query.key },
    "image (`index` or `key` query parameter, one of them)",
  );
  const spec = await deps.ledger.requirePlannedOrder(orderId);
  if (!spec.output.sizes.some((s) => s.name === size)) {
    throw new HttpError(
      400,
      `Bad size "${size}": expected one of ${spec.output.sizes.map((s) => s.name).join(", ")}.`,
    );
  }
  const index = ref.key !== undefined ? await deps.ledger.plannedIndex(orderId, ref.key) : ref.index;
  const [planned] = index === undefined ? [] : await deps.ledger.plannedKeys(orderId, index, 1);
  if (!planned) {
    throw new HttpError(
      404,
      ref.key !== undefined
        ? `Key ${JSON.stringify(ref.key)} is not an image of order ${orderId} (keys must match the planned key exactly).`
        : `Order ${orderId} has no image ${ref.index} (it has ${spec.total}).`,
    );
  }
  const sourceKey = planned.key;
  const target = {
    bucket: deps.config.thumbnailBucket,
    prefix: deps.config.thumbnailPrefix,
    orderId,
    sourceKey,
    format: spec.output.format,
  };
  const key = thumbnailKey({ ...target, size });
  // One deadline for the whole request (stored read, fetch, decode, store), below the function's
  // timeout and so below API Gateway's 30 s: a slow image is answered with its class, not cut off.
  const deadlineSeconds = Math.min(
    deps.config.imageTimeoutSeconds,
    deps.config.onDemandTimeoutSeconds ?? DEFAULT_ON_DEMAND_TIMEOUT_SECONDS,
  );
  const deadlineMs = deadlineSeconds * 1000;
  const started = performance.now();
  const signal = AbortSignal.timeout(deadlineMs);

  try {
    const stored = await readStored(deps, key, signal);
    if (stored) return image(stored, "stored");
    const original = await fetchOriginal(deps.s3, spec.bucket, sourceKey, deps.config.maxInputBytes, signal);
    // The worker's own step: sniff, make every size within what is left of the deadline, store.
    const thumbnails = await makeAndStoreThumbnails(deps.s3, original, {
      output: spec.output,
      maxInputPixels: deps.config.maxInputPixels,
      leftMs: deadlineMs - (performance.now() - started),
      target,
      signal,
    });
    const recorded = await deps.ledger.recordDone(orderId, planned.index);
    if (recorded.counted) await announceUpdate(deps, orderId);
    const made = thumbnails.find((t) => t.size.name === size)!;
    return image({ body: made.data, contentType: made.contentType, etag: undefined }, "generated");
  } catch (error) {
    const outOfTime = signal.aborted || performance.now() - started >= deadlineMs - 1000;
    if (outOfTime && !(error instanceof ImageFailure && error.failureClass !== "Transient")) {
      // S3 (or the whole request) was too slow: worth another try, after a pause.
      return retryLater(
        `Not made within the ${deadlineSeconds} s allowed for a thumbnail on demand (S3 or Redis was slow); try again shortly.`,
      );
    }
    if (!(error instanceof ImageFailure)) throw error;
    if (outOfTime && error.failureClass === "TooLarge") {
      // Decoding ran out of the on-demand deadline: the same image would again, so no retry here.
      return json(422, {
        error: `${error.message} This on-demand request allows ${deadlineSeconds} s; Retry sends the image to the worker, which allows ${deps.config.imageTimeoutSeconds} s.`,
        class: error.failureClass,
      });
    }
    if (error.failureClass === "Transient") return retryLater(error.message);
    return json(error.failureClass === "NotFound" ? 404 : 422, {
      error: error.message,
      class: error.failureClass,
    });
  }
}

/** 503 with the class and a Retry-After, which the dashboard's queue waits for before trying again. */
function retryLater(message: string): ApiResponse {
  const response = json(503, { error: message, class: "Transient" });
  response.headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  return response;
}

/**
 * A failed image made good on demand changes a complete order's counts: the backend hears the new ones
 * (order-events.ts). Best effort: the thumbnail is served even if SNS refuses, and the next slice run
 * of the order sends the update then.
 */
async function announceUpdate(deps: AdminDeps, orderId: string): Promise<void> {
  if (!deps.config.orderEventsTopicArn) return;
  await announceCompletion(
    deps.sns,
    deps.config.orderEventsTopicArn,
    deps.ledger,
    orderId,
    `on-demand:${orderId}`,
  ).catch(() => undefined);
}
