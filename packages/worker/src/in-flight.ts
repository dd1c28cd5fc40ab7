import { setTimeout as sleep } from "node:timers/promises";
import type { ItemState, OrderLedger, SliceItem } from "@thumbs/core";
import type { WorkerDeps } from "./resize-slice.js";

/** A worker invocation renews its lease this often; a dead one's lease lapses LEASE_TTL_MS later. */
const LEASE_RENEW_MS = 2_000;
const LEASE_TTL_MS = 6_000;
const POLL_MS = 250;

/**
 * Holds this invocation's lease while it works, renewed on a timer, so other invocations can tell an
 * image it is on (alive) from one whose invocation died (lease lapsed). Returns the release.
 */
export async function holdLease(ledger: OrderLedger, owner: string): Promise<() => Promise<void>> {
  await ledger.holdLease(owner, LEASE_TTL_MS);
  const timer = setInterval(
    () => void ledger.holdLease(owner, LEASE_TTL_MS).catch(() => undefined),
    LEASE_RENEW_MS,
  );
  timer.unref();
  return async () => {
    clearInterval(timer);
    await ledger.dropLease(owner).catch(() => undefined);
  };
}

/** The items whose last unfinished start was made by another invocation that is still alive. */
export async function inFlightElsewhere(
  ledger: OrderLedger,
  owner: string,
  states: readonly ItemState[],
): Promise<boolean[]> {
  const starters = states.flatMap((s) =>
    s.unfinishedStarts > 0 && s.lastStartBy && s.lastStartBy !== owner ? [s.lastStartBy] : [],
  );
  const alive = starters.length > 0 ? await ledger.aliveOwners(starters) : new Set<string>();
  return states.map((s) => s.unfinishedStarts > 0 && s.lastStartBy !== undefined && alive.has(s.lastStartBy));
}

export interface InFlightResolution {
  /** Another invocation recorded them (or gave them back): nothing to do here. */
  settled: SliceItem[];
  /** Their invocation died (its lease lapsed) before an outcome: with their state now. */
  abandoned: Array<{ item: SliceItem; state: ItemState }>;
  /** Still in flight elsewhere when this invocation had to stop: handed back. */
  handedBack: SliceItem[];
}

/**
 * Waits for images another live invocation is working on (a duplicate or overlapping delivery), rather
 * than running them twice at once, which would also count a live worker's start as a death. Polls
 * Redis; bounded by the invocation's hand-back margin.
 */
export async function awaitInFlight(
  deps: WorkerDeps,
  orderId: string,
  items: SliceItem[],
): Promise<InFlightResolution> {
  const result: InFlightResolution = { settled: [], abandoned: [], handedBack: [] };
  let waiting = items;
  while (waiting.length > 0) {
    if ((deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) < deps.config.handbackMarginMs) {
      result.handedBack.push(...waiting);
      break;
    }
    await sleep(POLL_MS);
    const { items: states } = await deps.ledger.sliceState(
      orderId,
      waiting.map((i) => i.index),
    );
    const elsewhere = await inFlightElsewhere(deps.ledger, deps.owner, states);
    const still: SliceItem[] = [];
    for (const [n, item] of waiting.entries()) {
      const state = states[n]!;
      if (state.done || state.unfinishedStarts === 0) result.settled.push(item);
      else if (elsewhere[n]) still.push(item);
      else result.abandoned.push({ item, state });
    }
    waiting = still;
  }
  return result;
}
