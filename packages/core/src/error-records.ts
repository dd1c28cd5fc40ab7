import type { Redis } from "ioredis";
import { type ErrorRecord, ErrorRecordSchema } from "./contracts.js";
import type { FailureClass } from "./failure.js";
import type { OrderKeys } from "./redis-layout.js";

export interface ErrorQuery {
  offset: number;
  limit: number;
  class?: FailureClass | undefined;
  /** Dismissed records are hidden unless asked for. */
  includeDismissed?: boolean | undefined;
}

export interface ErrorPage {
  records: ErrorRecord[];
  total: number;
  offset: number;
  limit: number;
}

async function readRecords(redis: Redis, errorsKey: string, indices: string[]): Promise<ErrorRecord[]> {
  if (indices.length === 0) return [];
  const raw = await redis.hmget(errorsKey, ...indices);
  return raw.flatMap((json) => (json ? [ErrorRecordSchema.parse(JSON.parse(json))] : []));
}

/**
 * An order's error records, newest first, filtered then paged. Filtering reads every record of the
 * order; that set is bounded by the order's size and the records' TTL.
 */
export async function queryErrors(redis: Redis, keys: OrderKeys, query: ErrorQuery): Promise<ErrorPage> {
  const all = await readRecords(redis, keys.errors, await redis.zrevrange(keys.errorsAt, 0, -1));
  const matching = all.filter(
    (r) => (!query.class || r.class === query.class) && (query.includeDismissed || !r.dismissedAt),
  );
  return {
    records: matching.slice(query.offset, query.offset + query.limit),
    total: matching.length,
    offset: query.offset,
    limit: query.limit,
  };
}

/** The error records of the given image indices (those that have one), or of every failed image. */
export async function failedRecords(
  redis: Redis,
  keys: OrderKeys,
  indices?: readonly number[],
): Promise<ErrorRecord[]> {
  const wanted = indices ? indices.map(String) : await redis.hkeys(keys.errors);
  const records = await readRecords(redis, keys.errors, wanted);
  return records.sort((a, b) => a.index - b.index);
}
