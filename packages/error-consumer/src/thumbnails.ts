import { GetObjectCommand } from "@aws-sdk/client-s3";
import { classifyS3Error, ImageFailure, ObjectKeySchema, thumbnailKey } from "@thumbs/core";
import { fetchOriginal, makeThumbnails, sniffImage, storeThumbnails } from "@thumbs/worker";
import { z } from "zod";
import type { AdminDeps } from "./deps.js";
import { HttpError } from "./errors.js";
import { type ApiResponse, json, parseInput } from "./http.js";

// Thumbnail keys are deterministic, but a retry after a fixed original rewrites the same key: cache briefly.
const CACHE_CONTROL = "private, max-age=300";

type Stored = { body: Uint8Array; contentType: string; etag: string | undefined };

async function readStored(deps: AdminDeps, key: string): Promise<Stored | null> {
  try {
    const object = await deps.s3.send(
      new GetObjectCommand({ Bucket: deps.config.thumbnailBucket, Key: key }),
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

/** A stored thumbnail, by the file name the image listing returned. */
export async function storedThumbnail(
  deps: AdminDeps,
  orderId: string,
  size: string,
  rawName: string,
): Promise<ApiResponse> {
  const name = parseInput(
    z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, "expected a thumbnail file name"),
    decodeURIComponent(rawName),
    "thumbnail name",
  );
  const stored = await readStored(deps, `${deps.config.thumbnailPrefix}${orderId}/${size}/${name}`);
  if (!stored) throw new HttpError(404, `No ${size} thumbnail named ${name} in order ${orderId}.`);
  return image(stored, "stored");
}

const ImageRef = z.union([
  z.object({ index: z.coerce.number().int().min(0), key: z.undefined().optional() }),
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
  const stored = await readStored(deps, key);
  if (stored) return image(stored, "stored");

  try {
    const original = await fetchOriginal(deps.s3, spec.bucket, sourceKey, deps.config.maxInputBytes);
    sniffImage(original);
    const thumbnails = await makeThumbnails(original, spec.output, {
      maxInputPixels: deps.config.maxInputPixels,
      timeoutSeconds: deps.config.imageTimeoutSeconds,
    });
    await storeThumbnails(deps.s3, target, thumbnails);
    await deps.ledger.recordDone(orderId, planned.index);
    const made = thumbnails.find((t) => t.size.name === size)!;
    return image({ body: made.data, contentType: made.contentType, etag: undefined }, "generated");
  } catch (error) {
    if (!(error instanceof ImageFailure)) throw error;
    const status = error.failureClass === "NotFound" ? 404 : error.failureClass === "Transient" ? 503 : 422;
    return json(status, { error: error.message, class: error.failureClass });
  }
}
