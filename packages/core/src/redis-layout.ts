/**
 * The Redis key layout. Every per-order key carries the order id in a hash tag (`{…}`) so an order's keys
 * share one slot, which the Lua scripts need. Every key gets a TTL, so memory stays bounded.
 *
 *   {p}{order}:meta        HASH   total, done, failed, dismissed, slices, status, createdAt, completedAt, bucket,
 *                                 source, prefix, output, fingerprint, threshold, failedAt, failureReason
 *   {p}{order}:done        BITMAP bit i set ⇔ image i has both thumbnails
 *   {p}{order}:failed      BITMAP bit i set ⇔ image i has an error record
 *   {p}{order}:errors      HASH   i → ErrorRecord JSON
 *   {p}{order}:errors-at   ZSET   i scored by the time of its latest failure (newest-first paging)
 *   {p}orders              ZSET   orderId scored by creation time (recent orders)
 *   {p}completions         STREAM one entry per completed order: the completion signal
 *   channel {p}completed   PUBLISH of the order id when it completes
 *   channel {p}completed:failed  PUBLISH of the order id when its failures pass its threshold
 */
export interface OrderKeys {
  meta: string;
  done: string;
  failed: string;
  errors: string;
  errorsAt: string;
}

export function orderKeys(prefix: string, orderId: string): OrderKeys {
  const base = `${prefix}{${orderId}}`;
  return {
    meta: `${base}:meta`,
    done: `${base}:done`,
    failed: `${base}:failed`,
    errors: `${base}:errors`,
    errorsAt: `${base}:errors-at`,
  };
}

export const ordersKey = (prefix: string): string => `${prefix}orders`;
export const completionsKey = (prefix: string): string => `${prefix}completions`;
export const completionChannel = (prefix: string): string => `${prefix}completed`;

export const ORDER_STATUSES = ["running", "succeeded", "completed_with_errors", "failed"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
