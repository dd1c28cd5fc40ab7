import { setTimeout as sleep } from "node:timers/promises";
import type { ErrorRecord } from "./contracts.js";
import { type ErrorPage, type ErrorQuery, failedRecords, queryErrors } from "./error-records.js";
import { OrderNotFoundError, ThumbsError } from "./errors.js";
import { FAILURE_ADVICE, type ImageFailure } from "./failure.js";
import { PlanStore } from "./plan-store.js";
import { completionChannel, completionsKey, type OrderStatus, ordersKey } from "./redis-layout.js";

export type { LedgerOptions } from "./plan-store.js";

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

/** How long a completion-event claim holds when its claimant dies without ending it. */
const ANNOUNCE_CLAIM_MS = 30_000;
/** How long a claimant waits for a live twin's claim: longer than a worker lease outlives its invocation. */
const TWIN_WAIT_MS = 8_000;
const TWIN_POLL_MS = 250;

/**
 * An order's accounting in Redis: how many images it has, which are done, which failed and why,
 * and whether it is complete. Every write is one atomic script, so it is exact under concurrency.
 */
export class OrderLedger extends PlanStore {
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
  async claimAnnouncement(orderId: string, claimant: string, twinWaitMs = TWIN_WAIT_MS): Promise<boolean> {
    const k = this.keys(orderId);
    const claim = (replaceable = "") =>
      this.scripts.claim(k.meta, k.announce, claimant, String(ANNOUNCE_CLAIM_MS), replaceable);
    const until = Date.now() + twinWaitMs;
    let result = await claim();
    // Held by someone else: only a twin (another invocation of this claimant's unit) is looked at.
    while (typeof result === "string") {
      const twin = await this.twinState(result, claimant);
      if (twin === "other") return false;
      if (twin === "dead") return (await claim(result)) === 1;
      // A live twin publishes; wait for it (a lease outlives a dead invocation by its TTL at most), so
      // that if it died holding the claim, this retry of its unit still takes over and publishes.
      if (Date.now() >= until) return false;
      await sleep(TWIN_POLL_MS);
      result = await claim();
    }
    return result === 1;
  }

  /**
   * A claimant named `unit#invocation` shares its unit with a duplicate delivery of the same slice
   * running at the same time. While the twin that holds the claim is alive (its lease held), it
   * publishes and this one does not; once its lease has lapsed it died before publishing, and its
   * claim may be taken over at once.
   */
  private async twinState(holder: string, claimant: string): Promise<"alive" | "dead" | "other"> {
    const split = claimant.indexOf("#");
    if (split < 0 || !holder.startsWith(claimant.slice(0, split + 1))) return "other";
    const owner = holder.slice(split + 1);
    return (await this.aliveOwners([owner])).has(owner) ? "alive" : "dead";
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
