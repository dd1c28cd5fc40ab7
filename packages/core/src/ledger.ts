import type { Redis } from "ioredis";
import { type ErrorRecord, type OutputSpec, OutputSpecSchema } from "./contracts.js";
import { type ErrorPage, type ErrorQuery, failedRecords, queryErrors } from "./error-records.js";
import { OrderConflictError, OrderNotFoundError, ThumbsError } from "./errors.js";
import { FAILURE_ADVICE, type ImageFailure } from "./failure.js";
import { DISMISS_ERROR, INIT_ORDER, RECORD_OUTCOME } from "./ledger-scripts.js";
import {
  completionChannel,
  completionsKey,
  type OrderKeys,
  type OrderStatus,
  orderKeys,
  ordersKey,
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
  /** Why the order is `failed`: its failure rate passed the threshold. */
  failureReason: string | null;
  bucket: string;
  source: string;
}

export interface OutcomeResult {
  /** The image's state changed (false for a duplicate delivery). */
  counted: boolean;
  /** This call accounted for the order's last image: the completion signal was emitted by it. */
  completed: boolean;
}

export type { ErrorPage, ErrorQuery };

/** What the pipeline needs to work on an order again (retries, thumbnails on demand). */
export interface OrderSpec {
  bucket: string;
  /** The listed prefix, or null for an explicit key list. */
  prefix: string | null;
  output: OutputSpec;
  slices: number;
}

type ScriptCommand<R> = (...args: string[]) => Promise<R>;

/** Registers the scripts on the client once; ioredis then runs them by SHA (EVALSHA) with a fallback. */
function scripts(redis: Redis) {
  const r = redis as unknown as Record<string, ScriptCommand<unknown> | undefined>;
  if (typeof r.thumbsInitOrder !== "function") {
    redis.defineCommand("thumbsInitOrder", { numberOfKeys: 7, lua: INIT_ORDER });
    redis.defineCommand("thumbsRecordOutcome", { numberOfKeys: 6, lua: RECORD_OUTCOME });
    redis.defineCommand("thumbsDismissError", { numberOfKeys: 2, lua: DISMISS_ERROR });
  }
  const bind =
    <R>(name: string): ScriptCommand<R> =>
    (...args) =>
      r[name]!.apply(redis, args) as Promise<R>;
  return {
    init: bind<[number, number]>("thumbsInitOrder"),
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
   * Records an order's total before any slice is published. Safe to call again for the same order
   * (a duplicate order-completed event): it keeps the existing progress.
   */
  async initOrder(args: {
    orderId: string;
    total: number;
    slices: number;
    bucket: string;
    source: string;
    /** Identifies the ordered key set: a re-plan must map every index to the same image. */
    fingerprint: string;
    prefix?: string | undefined;
    output: OutputSpec;
    /** Mark the order failed as soon as more than this percentage of its images failed. */
    failureThresholdPercent?: number | undefined;
    now?: Date;
  }): Promise<"created" | "exists"> {
    const k = this.keys(args.orderId);
    const p = this.options.keyPrefix;
    const [code, existing] = await this.scripts.init(
      k.meta,
      ordersKey(p),
      completionsKey(p),
      k.done,
      k.failed,
      k.errors,
      k.errorsAt,
      args.orderId,
      String(args.total),
      String(args.slices),
      String((args.now ?? new Date()).getTime()),
      String(this.options.ttlSeconds),
      args.bucket,
      args.source,
      completionChannel(p),
      args.fingerprint,
      args.prefix ?? "",
      JSON.stringify(args.output),
      String(args.failureThresholdPercent ?? 0),
    );
    if (code === -1) {
      throw new OrderConflictError(
        `Order "${args.orderId}" was already planned with other images (${existing} then, ${args.total} now). ` +
          "An order's images must not change after order-completed: use a new order id for changed content.",
      );
    }
    return code === 1 ? "created" : "exists";
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
      failureReason: h.failureReason ?? null,
      bucket: h.bucket ?? "",
      source: h.source ?? "",
    };
  }

  /**
   * The order's progress when it is complete and its completion event was not yet published
   * (order-events.ts); undefined otherwise. One HMGET in the common case (not complete, or sent).
   */
  async unannouncedCompletion(orderId: string): Promise<OrderProgress | undefined> {
    const [completedAt, announcedAt] = await this.redis.hmget(
      this.keys(orderId).meta,
      "completedAt",
      "announcedAt",
    );
    if (!completedAt || announcedAt) return undefined;
    return this.getProgress(orderId);
  }

  /** Records that the order's completion event was published (the first time wins). */
  async markAnnounced(orderId: string, now = new Date()): Promise<void> {
    await this.redis.hsetnx(this.keys(orderId).meta, "announcedAt", String(now.getTime()));
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

  async getOrderSpec(orderId: string): Promise<OrderSpec> {
    const [bucket, prefix, output, slices] = await this.redis.hmget(
      this.keys(orderId).meta,
      "bucket",
      "prefix",
      "output",
      "slices",
    );
    if (!bucket || !output) throw new OrderNotFoundError(orderId);
    return {
      bucket,
      prefix: prefix || null,
      output: OutputSpecSchema.parse(JSON.parse(output)),
      slices: Number(slices),
    };
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
