import { createHash, type Hash } from "node:crypto";
import type { OutputSpec, SliceMessage, SliceSource } from "./contracts.js";

/** Fingerprint of an ordered key list: equal lists, equal fingerprints, whatever their size. */
export class KeyFingerprint {
  private readonly hash: Hash = createHash("sha256");

  add(key: string): void {
    this.hash.update(key, "utf8").update("\n");
  }

  digest(): string {
    return this.hash.digest("hex");
  }

  static of(keys: Iterable<string>): string {
    const f = new KeyFingerprint();
    for (const key of keys) f.add(key);
    return f.digest();
  }
}

export interface SliceBounds {
  offset: number;
  count: number;
}

export interface PlanLimits {
  /** Preferred images per slice. */
  sliceSize: number;
  /** Most slices an order may have; slices grow beyond `sliceSize` to respect it. */
  maxSlices: number;
}

/** Images per slice for an order of `total` images: the preferred size, grown so there are ≤ maxSlices. */
export const effectiveSliceSize = (total: number, limits: PlanLimits): number =>
  Math.max(limits.sliceSize, Math.ceil(total / limits.maxSlices));

/** Offset ranges covering [0, total): every index in exactly one slice. */
export function planOffsets(total: number, limits: PlanLimits): SliceBounds[] {
  const size = effectiveSliceSize(total, limits);
  const slices: SliceBounds[] = [];
  for (let offset = 0; offset < total; offset += size) {
    slices.push({ offset, count: Math.min(size, total - offset) });
  }
  return slices;
}

/**
 * Plans key-range slices while a prefix listing streams past, keeping only one boundary key per
 * `chunkSize` keys (not the keys themselves), so a 100,000-image order plans in a few hundred kB.
 * Chunks are merged into slices at the end, once the total (and so the slice size) is known.
 */
export class RangePlanner {
  private readonly boundaries: string[] = [];
  private readonly fingerprint = new KeyFingerprint();
  private count = 0;
  private lastKey: string | undefined;

  constructor(private readonly chunkSize: number) {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(`Expected a positive integer chunk size, received ${chunkSize}`);
    }
  }

  add(key: string): void {
    // S3 lists each key once, in order; a repeat means a paging bug that would skew every offset.
    if (key === this.lastKey) throw new RangeError(`Key "${key}" was listed twice`);
    this.count += 1;
    this.lastKey = key;
    this.fingerprint.add(key);
    if (this.count % this.chunkSize === 0) this.boundaries.push(key);
  }

  get total(): number {
    return this.count;
  }

  /** Fingerprint of every key added, in order (call once, after the listing). */
  keysFingerprint(): string {
    return this.fingerprint.digest();
  }

  /** The slices: offset ranges plus the key just before each (`startAfter`) and its last key. */
  slices(limits: PlanLimits): Array<SliceBounds & { startAfter: string | undefined; lastKey: string }> {
    if (this.count === 0 || this.lastKey === undefined) return [];
    const chunksPerSlice = Math.ceil(effectiveSliceSize(this.count, limits) / this.chunkSize);
    const size = chunksPerSlice * this.chunkSize;
    const out: Array<SliceBounds & { startAfter: string | undefined; lastKey: string }> = [];
    for (let offset = 0; offset < this.count; offset += size) {
      const count = Math.min(size, this.count - offset);
      const end = offset + count;
      // boundaries[i] is the key at index (i + 1) * chunkSize - 1.
      const lastKey = end === this.count ? this.lastKey : this.boundaries[end / this.chunkSize - 1]!;
      const startAfter = offset === 0 ? undefined : this.boundaries[offset / this.chunkSize - 1];
      out.push({ offset, count, startAfter, lastKey });
    }
    return out;
  }
}

/** Builds the slice messages of an order given as an explicit key list. */
export function keySlices(args: {
  orderId: string;
  bucket: string;
  keys: readonly string[];
  output: OutputSpec;
  limits: PlanLimits;
}): SliceMessage[] {
  return planOffsets(args.keys.length, args.limits).map((b, sliceIndex) =>
    sliceMessage(args, sliceIndex, b, { kind: "keys", keys: args.keys.slice(b.offset, b.offset + b.count) }),
  );
}

export function sliceMessage(
  order: { orderId: string; bucket: string; output: OutputSpec },
  sliceIndex: number,
  bounds: SliceBounds,
  source: SliceSource,
  attempt = 0,
): SliceMessage {
  return {
    attempt,
    version: 1,
    orderId: order.orderId,
    bucket: order.bucket,
    sliceIndex,
    offset: bounds.offset,
    count: bounds.count,
    source,
    output: order.output,
  };
}
