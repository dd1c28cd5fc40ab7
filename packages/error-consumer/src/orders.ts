import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { FAILURE_CLASSES } from "@thumbs/core";
import { z } from "zod";
import type { AdminDeps } from "./deps.js";
import { HttpError } from "./errors.js";
import { type ApiResponse, json, parseInput, WholeNumberParam } from "./http.js";
import { presignThumbnails } from "./thumbnails.js";

const RecentQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });
const ErrorsQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  class: z.enum(FAILURE_CLASSES).optional(),
  dismissed: z.enum(["include", "exclude"]).default("exclude"),
});
const ImagesQuery = z.object({
  /** Default: the order's smallest size. */
  size: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "expected a size name")
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().max(2048).optional(),
});

export async function recentOrders(deps: AdminDeps, query: unknown): Promise<ApiResponse> {
  const { limit } = parseInput(RecentQuery, query, "query parameters");
  const ids = await deps.ledger.recentOrderIds(limit);
  // An id whose records expired between the two reads is simply left out.
  const orders = await Promise.all(ids.map((id) => deps.ledger.getProgress(id).catch(() => null)));
  return json(200, { orders: orders.filter(Boolean) });
}

export async function orderProgress(deps: AdminDeps, orderId: string): Promise<ApiResponse> {
  return json(200, await deps.ledger.getProgress(orderId));
}

export async function orderErrors(deps: AdminDeps, orderId: string, query: unknown): Promise<ApiResponse> {
  const q = parseInput(ErrorsQuery, query, "query parameters");
  await deps.ledger.getProgress(orderId); // 404 for an unknown order rather than an empty page
  return json(
    200,
    await deps.ledger.listErrors(orderId, {
      offset: q.offset,
      limit: q.limit,
      class: q.class,
      includeDismissed: q.dismissed === "include",
    }),
  );
}

export async function dismissError(deps: AdminDeps, orderId: string, rawIndex: string): Promise<ApiResponse> {
  const index = parseInput(WholeNumberParam, rawIndex, "image index");
  await deps.ledger.getProgress(orderId);
  if (!(await deps.ledger.dismissError(orderId, index))) {
    throw new HttpError(404, `Image ${index} of order ${orderId} has no error record to dismiss.`);
  }
  return json(200, { orderId, index, dismissed: true });
}

/**
 * The order's stored thumbnails of one size, a page at a time (S3 listing order), with the order's
 * size names, largest first: every size of an image is stored under the same name, so a client that
 * lists one size can show any other. Each image has `url`, its API route (relative to the API's base),
 * and, unless turned off, `presignedUrl`: a short-lived S3 GET URL valid until `expiresAt`, which a
 * browser loads with no API call per thumbnail (an `<img>` needs no CORS). `expiresAt` is null when
 * there are none.
 */
export async function orderImages(deps: AdminDeps, orderId: string, query: unknown): Promise<ApiResponse> {
  const q = parseInput(ImagesQuery, query, "query parameters");
  const spec = await deps.ledger.requirePlannedOrder(orderId);
  const sizes = [...spec.output.sizes]
    .sort((a, b) => b.width * b.height - a.width * a.height)
    .map((s) => s.name);
  const size = q.size ?? sizes.at(-1)!;
  if (!sizes.includes(size)) {
    throw new HttpError(400, `Bad size "${size}": expected one of ${sizes.join(", ")}.`);
  }
  const prefix = `${deps.config.thumbnailPrefix}${orderId}/${size}/`;
  const page = await deps.s3.client.send(
    new ListObjectsV2Command({
      Bucket: deps.config.thumbnailBucket,
      Prefix: prefix,
      MaxKeys: q.limit,
      ContinuationToken: q.cursor,
    }),
  );
  const listed = (page.Contents ?? []).flatMap((o) => {
    const name = o.Key?.slice(prefix.length);
    return name ? [{ name, key: o.Key! }] : [];
  });
  const presigned = await presignThumbnails(
    deps,
    listed.map((i) => i.key),
  );
  const images = listed.map(({ name }, i) => ({
    name,
    url: `orders/${orderId}/images/${size}/${encodeURIComponent(name)}`,
    ...(presigned ? { presignedUrl: presigned.urls[i] } : {}),
  }));
  return json(200, {
    size,
    sizes,
    images,
    expiresAt: presigned?.expiresAt ?? null,
    nextCursor: page.IsTruncated ? page.NextContinuationToken : null,
  });
}
