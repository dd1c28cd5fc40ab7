/** Defaults shared by every part of the pipeline. Each can be overridden through config or the event. */

export const DEFAULT_SIZES = [
  { name: "large", width: 1024, height: 1024 },
  { name: "small", width: 256, height: 256 },
] as const;

export const DEFAULT_FORMAT = "jpeg" as const;
export const DEFAULT_QUALITY = 80;

/** Images per slice: about a second of CPU on one vCPU (docs/PERFORMANCE.md), short enough to fan out wide. */
export const DEFAULT_SLICE_SIZE = 25;
/** Upper bound on slices per order; the slice size grows past the default to respect it. */
export const DEFAULT_MAX_SLICES = 1000;

/** Most images one slice message may carry (a hard bound on what one worker invocation holds). */
export const MAX_SLICE_ITEMS = 1000;
/**
 * Most bytes of one slice message's JSON: SNS takes 256 KiB, and the SNS envelope and message
 * attributes need some of it. Slices are cut by this and by count, whichever comes first.
 */
export const MAX_SLICE_MESSAGE_BYTES = 200 * 1024;
/** Most images one order may have (indices are Redis bitmap offsets; this keeps bitmaps ≤ 128 KiB). */
export const MAX_ORDER_IMAGES = 1_000_000;

/** SNS PublishBatch limits (AWS rejects larger batches; fauxqs 1.9.2 does not, so we enforce them ourselves). */
export const SNS_BATCH_MAX_ENTRIES = 10;
export const SNS_BATCH_MAX_BYTES = 256 * 1024;

/** S3 limits a key to 1,024 bytes of UTF-8. */
export const S3_MAX_KEY_BYTES = 1024;

/** Redis records live for 7 days by default: long enough for an admin to review, bounded for memory. */
export const DEFAULT_RECORD_TTL_SECONDS = 7 * 24 * 3600;

/** EventBridge refuses entries over 256 KiB; an event bigger than that names its keys in a manifest. */
export const EVENTBRIDGE_MAX_EVENT_BYTES = 256 * 1024;

/** Largest explicit key list an order-completed event may carry (EventBridge caps events at 256 KiB anyway). */
export const DEFAULT_MAX_EVENT_KEYS = 10_000;

/** Default guard rails for one input image. */
export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;
export const DEFAULT_IMAGE_TIMEOUT_SECONDS = 30;

/** The backend's event: its EventBridge `detail-type`, and the `source` infra's rule matches by default. */
export const ORDER_COMPLETED_DETAIL_TYPE = "order-completed";
export const DEFAULT_EVENT_SOURCE = "thumbs.backend";

/** Redis keys of every part start with this (tests and shared Redis use their own). */
export const DEFAULT_KEY_PREFIX = "thumbs:";
/** Times a Transient image is re-queued before it is recorded as failed. */
export const DEFAULT_TRANSIENT_RETRIES = 3;
/** The admin API's thumbnail made on demand: whole deadline (fetch, decode, store). */
export const DEFAULT_ON_DEMAND_TIMEOUT_SECONDS = 20;
/** How long the presigned thumbnail URLs of an image listing stay valid. */
export const DEFAULT_THUMBNAIL_URL_SECONDS = 600;

/** Length cap for error messages stored for the admin. */
export const MAX_ERROR_MESSAGE_LENGTH = 500;
