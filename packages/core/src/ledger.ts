import type { Redis } from "ioredis";
import type { ErrorRecord, SliceItem } from "./contracts.js";
import { type ErrorPage, type ErrorQuery, failedRecords, queryErrors } from "./error-records.js";
import { OrderConflictError, OrderNotFoundError, ThumbsError } from "./errors.js";
import { FAILURE_ADVICE, type ImageFailure } from "./failure.js";
import {
  CLAIM_ANNOUNCEMENT,
  DISMISS_ERROR,
  END_ANNOUNCEMENT,
  INIT_ORDER,
  RECORD_OUTCOME,
  STAGE_KEYS,
} from "./ledger-scripts.js";
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
  type OrderStatus,
  orderKeys,
  ordersKey,
  stagingKeys,
} from "./redis-layout.js";

export interface LedgerOptions {
  /** Prepended to every key, e.g. `thumbs:`; lets several deployments or test runs share one Redis. */
  keyPrefix: string;
  ttlSeconds: number;
}

export interface OrderProgress {
  orderId: string;
  total: number;
  done: number;
  failed: number;
  /** Failed images whose error the admin dismissed (still counted in `failed`). */
  dismissed: number;
  pending: number;
  slices: number;
  status: OrderStatus;
  complete: boolean;
  createdAt: string;
  completedAt: string | null;
  /** Counted changes since the order completed (retries, late successes); 0 until then. */
  revision: number;
  /** Whether the completion event was sent (for revision 0, or a later one). */
  announced: boolean;
  /** Why the order is `failed`: its failure rate passed the threshold. */
  failureReason: string | null;
  bucket: string;
  source: string;
  /** Slice messages refused because they did not match the plan, and the last one's reason. */
  rejectedSlices: number;
  lastRejection: string | null;
}

export interface OutcomeResult {
  /** The image's state changed (false for a duplicate delivery). */
  counted: boolean;
  /** This call accounted for the order's last image: the completion signal was emitted by it. */
  completed: boolean;
}

export type { ErrorPage, ErrorQuery };

/** How long a staged plan survives a coordinator run that died before committing it. */
const STAGING_TTL_SECONDS = 3600;
/** How long a completion-event claim holds when its claimant dies without ending it. */
const ANNOUNCE_CLAIM_MS = 30_000;

type ScriptCommand<R> = (...args: string[]) => Promise<R>;

/** Registers the scripts on the client once; ioredis then runs them by SHA (EVALSHA) with a fallback. */
function scripts(redis: Redis) {
  const r = redis as unknown as Record<string, ScriptCommand<unknown> | undefined>;
  if (typeof r.thumbsInitOrder !== "function") {
    redis.defineCommand("thumbsInitOrder", { numberOfKeys: 13, lua: INIT_ORDER });
    redis.defineCommand("thumbsRecordOutcome", { numberOfKeys: 9, lua: RECORD_OUTCOME });
    redis.defineCommand("thumbsDismissError", { numberOfKeys: 2, lua: DISMISS_ERROR });
    redis.defineCommand("thumbsStageKeys", { numberOfKeys: 2, lua: STAGE_KEYS });
    redis.defineCommand("thumbsClaimAnnouncement", { numberOfKeys: 2, lua: CLAIM_ANNOUNCEMENT });
    redis.defineCommand("thumbsEndAnnouncement", { numberOfKeys: 2, lua: END_ANNOUNCEMENT });
  }
  const bind =
    <R>(name: string): ScriptCommand<R> =>
    (...args) =>
      r[name]!.apply(redis, args) as Promise<R>;
  return {
    init: bind<[number, string]>("thumbsInitOrder"),
    stage: bind<number>("thumbsStageKeys"),
    claim: bind<number>("thumbsClaimAnnouncement"),
    endClaim: bind<number>("thumbsEndAnnouncement"),
    record: bind<[number, number]>("thumbsRecordOutcome"),
    dismiss: bind<number>("thumbsDismissError"),
  };
}

/**
 * An order's accounting in Redis: how many images it has, which are done, which failed and why,
 * and whether it is complete. Every write is one atomic script, so it is exact under concurrency.
 */
export class OrderLedger {
  private readonly scripts: ReturnType<typeof scripts>;

  constructor(
    private readonly redis: Redis,
    private readonly options: LedgerOptions,
  ) {
    this.scripts = scripts(redis);
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
    const k = this.keys(orderId);
    await this.redis.del(
      k.meta,
      k.done,
      k.failed,
      k.errors,
      k.errorsAt,
      k.keys,
      k.index,
      k.attempts,
      k.announce,
    );
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

  recordDone(orderId: string, index: number, now = new Date()): Promise<OutcomeResult> {
    return this.record(orderId, index, "done", "", now);
  }

  recordFailed(
    orderId: string,
    args: { index: number; key: string; sliceIndex: number; failure: ImageFailure },
    now = new Date(),
  ): Promise<OutcomeResult> {
    const record: ErrorRecord = {
      index: args.index,
      key: args.key,
      class: args.failure.failureClass,
      message: args.failure.message,
      advice: FAILURE_ADVICE[args.failure.failureClass],
      at: now.toISOString(),
      sliceIndex: args.sliceIndex,
    };
    return this.record(orderId, args.index, "failed", JSON.stringify(record), now);
  }

  private async record(
    orderId: string,
    index: number,
    outcome: "done" | "failed",
    recordJson: string,
    now: Date,
  ): Promise<OutcomeResult> {
    const k = this.keys(orderId);
    const p = this.options.keyPrefix;
    const [counted, completed] = await this.scripts.record(
      k.meta,
      k.done,
      k.failed,
      k.errors,
      k.errorsAt,
      completionsKey(p),
      k.attempts,
      k.keys,
      k.index,
      String(index),
      outcome,
      recordJson,
      String(now.getTime()),
      String(this.options.ttlSeconds),
      orderId,
      completionChannel(p),
    );
    if (counted === -1) throw new OrderNotFoundError(orderId);
    if (counted === -2) {
      throw new ThumbsError(
        `Image index ${index} is outside order "${orderId}": the slice does not match the plan.`,
      );
    }
    return { counted: counted === 1, completed: completed === 1 };
  }

  /** Of `indices`, those that already have both thumbnails (so a redelivered slice can skip them). */
  async doneIndices(orderId: string, indices: readonly number[]): Promise<Set<number>> {
    if (indices.length === 0) return new Set();
    const key = this.keys(orderId).done;
    const pipeline = this.redis.pipeline();
    for (const i of indices) pipeline.getbit(key, i);
    const results = (await pipeline.exec()) ?? [];
    const done = new Set<number>();
    results.forEach(([error, bit], position) => {
      if (error) throw error;
      if (bit === 1) done.add(indices[position]!);
    });
    return done;
  }

  async getProgress(orderId: string): Promise<OrderProgress> {
    const h = await this.redis.hgetall(this.keys(orderId).meta);
    if (!h.total) throw new OrderNotFoundError(orderId);
    const total = Number(h.total);
    const done = Number(h.done ?? 0);
    const failed = Number(h.failed ?? 0);
    return {
      orderId,
      total,
      done,
      failed,
      dismissed: Number(h.dismissed ?? 0),
      pending: total - done - failed,
      slices: Number(h.slices ?? 0),
      status: (h.status ?? "running") as OrderStatus,
      complete: h.completedAt !== undefined,
      createdAt: new Date(Number(h.createdAt)).toISOString(),
      completedAt: h.completedAt ? new Date(Number(h.completedAt)).toISOString() : null,
      revision: Number(h.revision ?? 0),
      announced: h.announcedAt !== undefined,
      failureReason: h.failureReason ?? null,
      bucket: h.bucket ?? "",
      source: h.source ?? "",
      rejectedSlices: Number(h.rejectedSlices ?? 0),
      lastRejection: h.lastRejection ?? null,
    };
  }

  /**
   * Claims the publishing of the order's completion event (see CLAIM_ANNOUNCEMENT): true when the order
   * is complete, its event not yet sent, and no other claimant holds it.
   */
  async claimAnnouncement(orderId: string, claimant: string): Promise<boolean> {
    const k = this.keys(orderId);
    return (await this.scripts.claim(k.meta, k.announce, claimant, String(ANNOUNCE_CLAIM_MS))) === 1;
  }

  /** Ends a claim: `sent` records the event as published; `released` lets another claimant publish. */
  async endAnnouncement(
    orderId: string,
    claimant: string,
    how: "sent" | "released",
    revision = 0,
  ): Promise<void> {
    const k = this.keys(orderId);
    await this.scripts.endClaim(k.meta, k.announce, claimant, String(Date.now()), how, String(revision));
  }

  /** Error records, newest first, filtered by class; dismissed ones only when asked for. */
  listErrors(orderId: string, query: ErrorQuery): Promise<ErrorPage> {
    return queryErrors(this.redis, this.keys(orderId), query);
  }

  /** Error records of the given indices, or of every failed image, by index. */
  failedRecords(orderId: string, indices?: readonly number[]): Promise<ErrorRecord[]> {
    return failedRecords(this.redis, this.keys(orderId), indices);
  }

  /** Hides an error from the default error list. Returns false when the image has no error record. */
  async dismissError(orderId: string, index: number, now = new Date()): Promise<boolean> {
    const result = await this.scripts.dismiss(
      this.keys(orderId).meta,
      this.keys(orderId).errors,
      String(index),
      now.toISOString(),
    );
    return result > 0;
  }

  /** Recently created order ids, newest first. */
  recentOrderIds(limit: number): Promise<string[]> {
    return this.redis.zrevrange(ordersKey(this.options.keyPrefix), 0, limit - 1);
  }

  /** Completion signals, oldest first (one stream entry per completed order). */
  async completions(): Promise<Array<{ orderId: string; total: number; done: number; failed: number }>> {
    const entries = await this.redis.xrange(completionsKey(this.options.keyPrefix), "-", "+");
    return entries.map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        orderId: f.orderId ?? "",
        total: Number(f.total),
        done: Number(f.done),
        failed: Number(f.failed),
      };
    });
  }
}
