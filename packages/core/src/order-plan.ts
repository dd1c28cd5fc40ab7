import type { Redis } from "ioredis";
import { type OutputSpec, OutputSpecSchema, type SliceItem } from "./contracts.js";
import type { FailureClass } from "./failure.js";
import type { OrderKeys } from "./redis-layout.js";

/**
 * What makes an order the order it is: where its images come from and what is made of them. A repeated
 * order-completed event with the same identity re-publishes the plan; one with another is refused.
 */
export interface OrderIdentity {
  bucket: string;
  /** `prefix:<prefix>` for a listed prefix, `keys:<sha256 of the sorted keys>` for an explicit list. */
  source: string;
  output: OutputSpec;
}

/** One canonical string per identity (field order fixed), so Redis can compare identities as strings. */
export const identityString = (identity: OrderIdentity): string =>
  JSON.stringify({ bucket: identity.bucket, source: identity.source, output: identity.output });

/** The fields of `identity` that differ from `existing` (a stored identity string). */
export function identityDifference(existing: string, identity: OrderIdentity): string[] {
  const before = JSON.parse(existing) as OrderIdentity;
  const fields = ["bucket", "source", "output"] as const;
  return fields.flatMap((field) => {
    const was = JSON.stringify(before[field]);
    const now = JSON.stringify(identity[field]);
    return was === now ? [] : [`${field} was ${was}, now ${now}`];
  });
}

/** An order as planned: everything a worker needs besides the keys of its own slice. */
export interface PlannedOrder {
  total: number;
  bucket: string;
  output: OutputSpec;
  /** The listed prefix, or null for an explicit key list. */
  prefix: string | null;
  slices: number;
  identity: string;
}

/** The planned order, or undefined when Redis has no record of it (never planned, expired, or lost). */
export async function readPlannedOrder(redis: Redis, keys: OrderKeys): Promise<PlannedOrder | undefined> {
  const [total, bucket, output, prefix, slices, identity] = await redis.hmget(
    keys.meta,
    "total",
    "bucket",
    "output",
    "prefix",
    "slices",
    "identity",
  );
  if (total === null || !bucket || !output || !identity) return undefined;
  return {
    total: Number(total),
    bucket,
    output: OutputSpecSchema.parse(JSON.parse(output)),
    prefix: prefix || null,
    slices: Number(slices ?? 0),
    identity,
  };
}

/** Planned keys of a run of indices [from, from + count), in index order. */
export async function readPlannedKeys(
  redis: Redis,
  keys: OrderKeys,
  from: number,
  count: number,
): Promise<SliceItem[]> {
  if (count <= 0) return [];
  const indices = Array.from({ length: count }, (_, i) => from + i);
  const found = await redis.hmget(keys.keys, ...indices.map(String));
  return indices.flatMap((index, i) => (found[i] ? [{ index, key: found[i]! }] : []));
}

/** What a worker knows about each item of its slice before it starts: the plan, and the item's state. */
export interface ItemState {
  /** The key planned for this index (undefined: no such index in the plan). */
  plannedKey: string | undefined;
  done: boolean;
  /** Has an error record. */
  failed: boolean;
  /** The class of its error record, when it has one. */
  failureClass: FailureClass | undefined;
  /**
   * Times the image was started without an outcome: each is an invocation that died while on it, or
   * one still working on it (see `lastStartBy`).
   */
  unfinishedStarts: number;
  /** The invocation that made the last unfinished start, if any (alive while its lease is held). */
  lastStartBy: string | undefined;
}

/** One pipelined round trip: the order's plan and the state of each of `indices`. */
export async function readSliceState(
  redis: Redis,
  keys: OrderKeys,
  indices: readonly number[],
): Promise<{ order: PlannedOrder | undefined; items: ItemState[] }> {
  const fields = indices.map(String);
  const pipeline = redis.pipeline();
  pipeline.hmget(keys.keys, ...fields);
  pipeline.hmget(keys.attempts, ...fields.flatMap((f) => [f, `${f}:by`]));
  pipeline.hmget(keys.errors, ...fields);
  for (const i of indices) pipeline.getbit(keys.done, i).getbit(keys.failed, i);
  const [order, results] = await Promise.all([readPlannedOrder(redis, keys), pipeline.exec()]);
  const values = (results ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const planned = values[0] as Array<string | null>;
  const attempts = values[1] as Array<string | null>;
  const records = values[2] as Array<string | null>;
  return {
    order,
    items: indices.map((_, i) => ({
      plannedKey: planned[i] ?? undefined,
      unfinishedStarts: Number(attempts[2 * i] ?? 0),
      lastStartBy: attempts[2 * i + 1] ?? undefined,
      done: values[3 + 2 * i] === 1,
      failed: values[4 + 2 * i] === 1,
      failureClass: records[i] ? (JSON.parse(records[i]!) as { class: FailureClass }).class : undefined,
    })),
  };
}
