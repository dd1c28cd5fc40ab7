import { createHash } from "node:crypto";
import { MAX_SLICE_ITEMS, MAX_SLICE_MESSAGE_BYTES } from "./constants.js";
import type { SliceItem, SliceMessage } from "./contracts.js";

/** Fingerprint of an ordered key list: equal lists, equal fingerprints, whatever their size. */
export function keysFingerprint(keys: Iterable<string>): string {
  const hash = createHash("sha256");
  for (const key of keys) hash.update(key, "utf8").update("\n");
  return hash.digest("hex");
}

export interface PlanLimits {
  /** Preferred images per slice. */
  sliceSize: number;
  /** Most slices an order may have; slices grow beyond `sliceSize` to respect it. */
  maxSlices: number;
}

/**
 * Images per slice for an order of `total` images: the preferred size, grown so there are ≤ maxSlices,
 * and never more than one message may carry.
 */
export const effectiveSliceSize = (total: number, limits: PlanLimits): number =>
  Math.min(MAX_SLICE_ITEMS, Math.max(limits.sliceSize, Math.ceil(total / limits.maxSlices)));

/** A slice message for the given planned images. */
export function sliceMessage(
  orderId: string,
  sliceIndex: number,
  items: readonly SliceItem[],
  attempt = 0,
): SliceMessage {
  return { version: 2, orderId, sliceIndex, items: [...items], attempt };
}

// What a slice message costs besides its items: the envelope's fields and punctuation.
const ENVELOPE_BYTES = 256;
const itemBytes = (item: SliceItem): number => Buffer.byteLength(JSON.stringify(item), "utf8") + 1;

/**
 * Cuts planned images, fed in index order, into slice messages of at most `size` images and at most
 * MAX_SLICE_MESSAGE_BYTES of JSON each (long keys make smaller slices). Only the slice being filled is
 * held, so a coordinator can stream an order of any size through it.
 */
export class SliceCutter {
  private items: SliceItem[] = [];
  private bytes = ENVELOPE_BYTES;
  private next = 0;

  constructor(
    private readonly orderId: string,
    private readonly size: number,
    private readonly firstSliceIndex = 0,
  ) {
    this.next = firstSliceIndex;
  }

  /** Adds one image; returns the slice it completed, if it completed one. */
  add(item: SliceItem): SliceMessage | undefined {
    const cost = itemBytes(item);
    const full =
      this.items.length > 0 &&
      (this.items.length >= this.size || this.bytes + cost > MAX_SLICE_MESSAGE_BYTES);
    const completed = full ? this.flush() : undefined;
    this.items.push(item);
    this.bytes += cost;
    return completed;
  }

  /** The last, partly filled slice, if any. */
  flush(): SliceMessage | undefined {
    if (this.items.length === 0) return undefined;
    const slice = sliceMessage(this.orderId, this.next++, this.items);
    this.items = [];
    this.bytes = ENVELOPE_BYTES;
    return slice;
  }

  /** Slices cut so far. */
  get count(): number {
    return this.next - this.firstSliceIndex;
  }
}
