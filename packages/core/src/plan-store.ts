import type { Redis } from "ioredis";
import type { SliceItem } from "./contracts.js";
import { OrderConflictError, OrderNotFoundError, ThumbsError } from "./errors.js";
import { type LedgerScripts, ledgerScripts } from "./ledger-commands.js";
import {
  type ItemState,
  identityDifference,
  identityString,
  type OrderIdentity,
  type PlannedOrder,
  readPlannedKeys,
  readPlannedOrder,
  readSliceState,
} from "./order-plan.js";
import {
  completionChannel,
  completionsKey,
  leaseKey,
  type OrderKeys,
  orderKeys,
  ordersKey,
  stagingKeys,
} from "./redis-layout.js";

export interface LedgerOptions {
  /** Prepended to every key, e.g. `thumbs:`; lets several deployments or test runs share one Redis. */
  keyPrefix: string;
  ttlSeconds: number;
}

/** How long a staged plan survives a coordinator run that died before committing it. */
const STAGING_TTL_SECONDS = 3600;

/**
 * An order's plan in Redis (every image's index and key, fixed when the order is planned) and the
 * state workers keep around it: unfinished starts and the leases of live invocations. OrderLedger adds
 * outcomes, progress and the completion event on top.
 */
export class PlanStore {
  protected readonly scripts: LedgerScripts;

  constructor(
    protected readonly redis: Redis,
    protected readonly options: LedgerOptions,
  ) {
    this.scripts = ledgerScripts(redis);
  }

  keys(orderId: string): OrderKeys {
    return orderKeys(this.options.keyPrefix, orderId);
  }

  /**
   * Adds keys to the plan one coordinator run is staging (see STAGE_KEYS): a page at a time, so the
   * coordinator never holds the order's key list. Returns the number of images staged so far.
   */
  stagePlan(orderId: string, runId: string, keys: readonly string[]): Promise<number> {
    const staging = stagingKeys(this.options.keyPrefix, orderId, runId);
    return this.scripts.stage(staging.keys, staging.index, String(STAGING_TTL_SECONDS), ...keys);
  }

  /** Drops a run's staged plan (its run failed before committing it). */
  async dropStagedPlan(orderId: string, runId: string): Promise<void> {
    const staging = stagingKeys(this.options.keyPrefix, orderId, runId);
    await this.redis.del(staging.keys, staging.index);
  }

  /**
   * Commits a run's staged plan as the order's plan and records its total, before any slice is
   * published. Safe to call again for the same order (a duplicate or concurrent event with the same
   * identity): the existing plan and its progress are kept. Another identity throws OrderConflictError.
   */
  async initOrder(args: {
    orderId: string;
    runId: string;
    total: number;
    identity: OrderIdentity;
    /** How the admin sees the source: `s3://bucket/prefix` or `N listed keys`. */
    source: string;
    prefix?: string | undefined;
    /** Mark the order failed as soon as more than this percentage of its images failed. */
    failureThresholdPercent?: number | undefined;
    now?: Date;
  }): Promise<"created" | "exists"> {
    const k = this.keys(args.orderId);
    const p = this.options.keyPrefix;
    const staging = stagingKeys(p, args.orderId, args.runId);
    const identity = identityString(args.identity);
    const [code, detail] = await this.scripts.init(
      k.meta,
      ordersKey(p),
      completionsKey(p),
      k.done,
      k.failed,
      k.errors,
      k.errorsAt,
      k.keys,
      k.index,
      staging.keys,
      staging.index,
      k.attempts,
      k.announce,
      args.orderId,
      String(args.total),
      String((args.now ?? new Date()).getTime()),
      String(this.options.ttlSeconds),
      args.identity.bucket,
      args.source,
      completionChannel(p),
      identity,
      args.prefix ?? "",
      JSON.stringify(args.identity.output),
      String(args.failureThresholdPercent ?? 0),
    );
    if (code === -1) throw this.conflict(args.orderId, String(detail), args.identity);
    if (code === -2) {
      throw new ThumbsError(
        `The staged plan of order "${args.orderId}" holds ${detail} images, not ${args.total}: it expired ` +
          `or was written by another run. Plan the order again.`,
      );
    }
    return code === 1 ? "created" : "exists";
  }

  /** Refuses a plan whose identity differs from the recorded one, saying what differs. */
  conflict(orderId: string, existing: string, identity: OrderIdentity): OrderConflictError {
    return new OrderConflictError(
      `Order "${orderId}" was already planned with another ${identityDifference(existing, identity).join("; ")}. ` +
        "An order's images and output spec are fixed when it is planned: re-send the original event, " +
        "or use a new order id for changed content or sizes.",
    );
  }

  /** Records how many slices the plan was published as (set once the coordinator has published them). */
  async setSliceCount(orderId: string, slices: number): Promise<void> {
    await this.redis.hset(this.keys(orderId).meta, "slices", slices);
  }

  /** The order as planned, or undefined when Redis has no record of it. */
  plannedOrder(orderId: string): Promise<PlannedOrder | undefined> {
    return readPlannedOrder(this.redis, this.keys(orderId));
  }

  /** The order as planned; OrderNotFoundError when Redis has no record of it. */
  async requirePlannedOrder(orderId: string): Promise<PlannedOrder> {
    const order = await this.plannedOrder(orderId);
    if (!order) throw new OrderNotFoundError(orderId);
    return order;
  }

  /** Planned images [from, from + count), in index order. */
  plannedKeys(orderId: string, from: number, count: number): Promise<SliceItem[]> {
    return readPlannedKeys(this.redis, this.keys(orderId), from, count);
  }

  /** True when the plan holds an entry for every image of the order (false: part of it was lost). */
  async planIntact(orderId: string, total: number): Promise<boolean> {
    return (await this.redis.hlen(this.keys(orderId).keys)) === total;
  }

  /** Removes every record of an order (its plan, progress and error records). */
  async forgetOrder(orderId: string): Promise<void> {
    await this.redis.del(...Object.values(this.keys(orderId)));
  }

  /** The planned index of a source key, or undefined when the key is not an image of the order. */
  async plannedIndex(orderId: string, key: string): Promise<number | undefined> {
    const index = await this.redis.hget(this.keys(orderId).index, key);
    return index === null ? undefined : Number(index);
  }

  /** The plan and the state of each item of a slice, in one round trip. */
  sliceState(
    orderId: string,
    indices: readonly number[],
  ): Promise<{ order: PlannedOrder | undefined; items: ItemState[] }> {
    return readSliceState(this.redis, this.keys(orderId), indices);
  }

  /**
   * Counts a start of image `index`; returns how many starts it has had without an outcome, this one
   * included. An outcome (or releaseImages) resets it, so a count above one means earlier invocations
   * died while on this image.
   */
  async startImage(orderId: string, index: number, owner: string): Promise<number> {
    const k = this.keys(orderId);
    const [count] = await Promise.all([
      this.redis.hincrby(k.attempts, String(index), 1),
      this.redis.hset(k.attempts, `${index}:by`, owner),
      this.redis.expire(k.attempts, this.options.ttlSeconds),
    ]);
    return count;
  }

  /** Forgets the unfinished starts of images handed back or deferred (they did not die, they wait). */
  async releaseImages(orderId: string, indices: readonly number[]): Promise<void> {
    if (indices.length === 0) return;
    await this.redis.hdel(this.keys(orderId).attempts, ...indices.flatMap((i) => [String(i), `${i}:by`]));
  }

  /** Holds (or renews) a worker invocation's lease: the invocation counts as alive for `ttlMs`. */
  async holdLease(owner: string, ttlMs: number): Promise<void> {
    await this.redis.set(leaseKey(this.options.keyPrefix, owner), "1", "PX", ttlMs);
  }

  async dropLease(owner: string): Promise<void> {
    await this.redis.del(leaseKey(this.options.keyPrefix, owner));
  }

  /** Which of these invocations still hold their lease. */
  async aliveOwners(owners: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(owners)];
    const alive = await Promise.all(
      unique.map((o) => this.redis.exists(leaseKey(this.options.keyPrefix, o))),
    );
    return new Set(unique.filter((_, i) => alive[i] === 1));
  }

  /** Records, on the order, that a slice message was refused (it does not match the plan). */
  async recordRejectedSlice(orderId: string, reason: string): Promise<void> {
    const meta = this.keys(orderId).meta;
    if ((await this.redis.exists(meta)) === 0) return;
    await this.redis.multi().hincrby(meta, "rejectedSlices", 1).hset(meta, "lastRejection", reason).exec();
  }
}
