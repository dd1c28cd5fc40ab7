/**
 * The Redis key layout. Every per-order key carries the order id in a hash tag (`{…}`) so an order's keys
 * share one slot, which the Lua scripts need. Every key gets a TTL, so memory stays bounded.
 *
 *   {p}{order}:meta        HASH   total, done, failed, dismissed, slices, status, createdAt, completedAt, bucket,
 *                                 source, prefix, output, identity, threshold, failedAt, failureReason,
 *                                 announcedAt, rejectedSlices, lastRejection
 *   {p}{order}:keys        HASH   i → planned source key (the plan: fixed when the order is planned)
 *   {p}{order}:index       HASH   planned source key → i
 *   {p}{order}:attempts    HASH   i → times image i was started without an outcome being recorded;
 *                                 i:by → the invocation that started it last
 *   {p}lease:{invocation}  STRING exists while that worker invocation runs (renewed every 2 s, 6 s TTL)
 *   {p}{order}:announce    STRING who is publishing the completion event (a short-lived claim)
 *   {p}{order}:plan:{run}  HASH   a plan being written by one coordinator run (renamed to :keys / :index)
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
  keys: string;
  index: string;
  attempts: string;
  announce: string;
}

export function orderKeys(prefix: string, orderId: string): OrderKeys {
  const base = `${prefix}{${orderId}}`;
  return {
    meta: `${base}:meta`,
    done: `${base}:done`,
    failed: `${base}:failed`,
    errors: `${base}:errors`,
    errorsAt: `${base}:errors-at`,
    keys: `${base}:keys`,
    index: `${base}:index`,
    attempts: `${base}:attempts`,
    announce: `${base}:announce`,
  };
}

/** The staging hashes of one coordinator run's plan, in the order's slot so INIT_ORDER can rename them. */
export function stagingKeys(prefix: string, orderId: string, runId: string): { keys: string; index: string } {
  const base = `${prefix}{${orderId}}:plan:${runId}`;
  return { keys: `${base}:keys`, index: `${base}:index` };
}

export const ordersKey = (prefix: string): string => `${prefix}orders`;
/** Held (with a short TTL, renewed) by a worker invocation while it runs: it is alive while this exists. */
export const leaseKey = (prefix: string, owner: string): string => `${prefix}lease:${owner}`;
export const completionsKey = (prefix: string): string => `${prefix}completions`;
export const completionChannel = (prefix: string): string => `${prefix}completed`;

export const ORDER_STATUSES = ["running", "succeeded", "completed_with_errors", "failed"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
