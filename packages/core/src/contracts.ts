import { z } from "zod";
import {
  DEFAULT_FORMAT,
  DEFAULT_QUALITY,
  DEFAULT_SIZES,
  MAX_ORDER_IMAGES,
  MAX_SLICE_ITEMS,
  S3_MAX_KEY_BYTES,
} from "./constants.js";
import { FAILURE_CLASSES } from "./failure.js";

const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Order ids end up in Redis keys and S3 keys, so they are restricted to a safe alphabet. */
export const OrderIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    "expected 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit",
  );

export const BucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name (3-63 of a-z 0-9 . -)");

export const ObjectKeySchema = z
  .string()
  .min(1, "expected a non-empty S3 key")
  .refine(
    (k) => utf8Bytes(k) <= S3_MAX_KEY_BYTES,
    `expected an S3 key of at most ${S3_MAX_KEY_BYTES} UTF-8 bytes`,
  );

export const ThumbnailSizeSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "expected a size name of a-z 0-9 - (max 32)"),
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
});
export type ThumbnailSize = z.infer<typeof ThumbnailSizeSchema>;

export const OutputFormatSchema = z.enum(["jpeg", "webp"]);
export type OutputFormat = z.infer<typeof OutputFormatSchema>;

/** What every worker produces for every image of an order. Resolved once, by the coordinator. */
export const OutputSpecSchema = z.object({
  sizes: z
    .array(ThumbnailSizeSchema)
    .min(1)
    .max(4)
    .refine((sizes) => new Set(sizes.map((s) => s.name)).size === sizes.length, "expected unique size names"),
  format: OutputFormatSchema,
  quality: z.number().int().min(1).max(100),
});
export type OutputSpec = z.infer<typeof OutputSpecSchema>;

export const DEFAULT_OUTPUT: OutputSpec = {
  sizes: DEFAULT_SIZES.map((s) => ({ ...s })),
  format: DEFAULT_FORMAT,
  quality: DEFAULT_QUALITY,
};

/**
 * The backend's order-completed event (the EventBridge `detail`, or the direct invocation payload).
 * Exactly one of `prefix` (every object under it is an image of the order), `keys` (an explicit list)
 * or `manifest` (the key of an object in the same bucket listing the keys: a JSON array of strings, or
 * one key per line), for orders whose key list would not fit in an event.
 */
export const OrderCompletedSchema = z
  .object({
    orderId: OrderIdSchema,
    bucket: BucketSchema,
    // A folder: `orders/A-1` would also take in `orders/A-10/…`, another order's images.
    prefix: z
      .string()
      .min(2, "expected a non-empty prefix")
      .max(S3_MAX_KEY_BYTES)
      .refine((p) => p.endsWith("/"), "expected a prefix ending in `/` (a folder, e.g. `orders/A-1001/`)")
      .optional(),
    keys: z.array(ObjectKeySchema).min(1).optional(),
    manifest: ObjectKeySchema.optional(),
    sizes: OutputSpecSchema.shape.sizes.optional(),
    format: OutputFormatSchema.optional(),
    quality: OutputSpecSchema.shape.quality.optional(),
    /** Mark the order failed once more than this percentage of its images failed (default: config). */
    failureThresholdPercent: z.number().min(0).max(100).optional(),
  })
  .strict()
  .refine((e) => [e.prefix, e.keys, e.manifest].filter((s) => s !== undefined).length === 1, {
    message: "expected exactly one of `prefix`, `keys` or `manifest`",
  });
export type OrderCompleted = z.infer<typeof OrderCompletedSchema>;

/** One planned image: its index in the order and its key, both fixed when the order was planned. */
export const SliceItemSchema = z.object({
  index: z
    .number()
    .int()
    .min(0)
    .max(MAX_ORDER_IMAGES - 1),
  key: ObjectKeySchema,
});
export type SliceItem = z.infer<typeof SliceItemSchema>;

/**
 * One SNS message: a worker's unit of work. It names its images by planned index *and* key; the worker
 * checks both against the plan in Redis, reads the order's bucket and output spec from there, and never
 * derives a key from a listing. Bounded in count and bytes, so no message can exhaust a worker's memory.
 */
export const SliceMessageSchema = z
  .object({
    version: z.literal(2),
    orderId: OrderIdSchema,
    sliceIndex: z.number().int().min(0).max(MAX_ORDER_IMAGES),
    items: z.array(SliceItemSchema).min(1).max(MAX_SLICE_ITEMS),
    /** How many times these images were already tried and deferred as Transient. */
    attempt: z.number().int().min(0).max(100).default(0),
    /** An admin's retry: re-runs failed images, even those recorded Crashed (see resize-slice.ts). */
    retry: z.literal(true).optional(),
  })
  .strict()
  .refine((m) => new Set(m.items.map((i) => i.index)).size === m.items.length, {
    message: "expected each image index at most once",
  });
export type SliceMessage = z.infer<typeof SliceMessageSchema>;

/** A per-image error record as stored in Redis and served to the admin. */
export const ErrorRecordSchema = z.object({
  index: z.number().int().min(0),
  key: z.string(),
  class: z.enum(FAILURE_CLASSES),
  message: z.string(),
  advice: z.string(),
  at: z.string(),
  sliceIndex: z.number().int().min(0),
  /** Set when the admin dismissed the error; the image still counts as failed. */
  dismissedAt: z.string().optional(),
});
export type ErrorRecord = z.infer<typeof ErrorRecordSchema>;
