import {
  ContractError,
  EVENTBRIDGE_MAX_EVENT_BYTES,
  ORDER_COMPLETED_DETAIL_TYPE,
  type OrderCompleted,
  OrderCompletedSchema,
  parseContract,
} from "@thumbs/core";
import type { CoordinatorConfig } from "./config.js";
import { BucketNotAllowedError } from "./errors.js";

/**
 * The EventBridge detail-type the backend emits (direct invocations pass the detail itself): part of
 * the backend contract in @thumbs/core, which infra's rule matches too.
 */
export { ORDER_COMPLETED_DETAIL_TYPE };

/** Accepts an EventBridge event or a bare order-completed payload, validated against config limits. */
export function parseOrderEvent(input: unknown, config: CoordinatorConfig): OrderCompleted {
  const envelope = input as { "detail-type"?: unknown; detail?: unknown } | null;
  const isEventBridge = typeof envelope === "object" && envelope !== null && "detail-type" in envelope;
  if (isEventBridge && envelope["detail-type"] !== ORDER_COMPLETED_DETAIL_TYPE) {
    throw new ContractError(
      `Expected an EventBridge event of detail-type "${ORDER_COMPLETED_DETAIL_TYPE}", received "${String(envelope["detail-type"])}".`,
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(isEventBridge ? envelope.detail : input) ?? "", "utf8");
  if (bytes > EVENTBRIDGE_MAX_EVENT_BYTES) {
    throw new ContractError(
      `The order-completed event is ${bytes} bytes; EventBridge accepts at most ${EVENTBRIDGE_MAX_EVENT_BYTES} ` +
        "(256 KiB), so an event this big cannot be delivered. Upload the key list to the bucket (a JSON array " +
        'or one key per line) and send `"manifest": "<its key>"` instead of `keys`.',
    );
  }
  const event = parseContract(
    OrderCompletedSchema,
    isEventBridge ? envelope.detail : input,
    "order-completed event",
  );
  if (config.allowedSourceBuckets.length > 0 && !config.allowedSourceBuckets.includes(event.bucket)) {
    throw new BucketNotAllowedError(event.bucket, config.allowedSourceBuckets);
  }
  if (event.keys && event.keys.length > config.maxEventKeys) {
    throw new ContractError(
      `The event lists ${event.keys.length} keys; at most ${config.maxEventKeys} are accepted (MAX_EVENT_KEYS). ` +
        "Send a `prefix` or a `manifest` instead for large orders.",
    );
  }
  return event;
}
