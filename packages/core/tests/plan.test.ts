import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_SLICE_ITEMS, MAX_SLICE_MESSAGE_BYTES } from "../src/constants.js";
import { type SliceItem, type SliceMessage, SliceMessageSchema } from "../src/contracts.js";
import { effectiveSliceSize, keysFingerprint, SliceCutter } from "../src/plan.js";

const cut = (items: SliceItem[], size: number): SliceMessage[] => {
  const cutter = new SliceCutter("o", size);
  const slices = items.flatMap((item) => cutter.add(item) ?? []);
  const last = cutter.flush();
  return last ? [...slices, last] : slices;
};

describe("effectiveSliceSize", () => {
  it("grows slices to respect the slice cap, but never past what one message may carry", () => {
    // Act + Assess: under the cap, over it, and over it past what one message carries.
    expect(effectiveSliceSize(1_000, { sliceSize: 25, maxSlices: 1000 })).toBe(25);
    expect(effectiveSliceSize(100_000, { sliceSize: 25, maxSlices: 1000 })).toBe(100);
    expect(effectiveSliceSize(1_000_000, { sliceSize: 25, maxSlices: 10 })).toBe(MAX_SLICE_ITEMS);
  });
});

describe("SliceCutter", () => {
  it("puts every planned image in exactly one valid slice, under its own index and key", () => {
    // Camera-style names of any length: mixed case, spaces, accents, up to S3's 1,024 bytes.
    const key = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 300 })
      .filter((k) => Buffer.byteLength(k) <= 1024);
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 400 }), fc.integer({ min: 1, max: 60 }), (keys, size) => {
        // Prepare
        const items = keys.map((k, index) => ({ index, key: k }));

        // Act
        const slices = cut(items, size);

        // Assess
        expect(slices.flatMap((s) => s.items)).toEqual(items);
        expect(slices.map((s) => s.sliceIndex)).toEqual(slices.map((_, i) => i));
        for (const slice of slices) {
          expect(slice.items.length).toBeLessThanOrEqual(size);
          expect(Buffer.byteLength(JSON.stringify(slice))).toBeLessThanOrEqual(MAX_SLICE_MESSAGE_BYTES);
          expect(SliceMessageSchema.safeParse(slice).success).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("cuts by bytes when keys are long, so a message always fits SNS", () => {
    // Prepare: 1,000 keys of S3's longest, 1,024 bytes.
    const items = Array.from({ length: 1000 }, (_, index) => ({
      index,
      key: `${index}`.padEnd(1024, "é").slice(0, 600),
    }));

    // Act
    const slices = cut(items, 1000);

    // Assess
    expect(slices.length).toBeGreaterThan(1);
    for (const s of slices)
      expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThanOrEqual(MAX_SLICE_MESSAGE_BYTES);
  });

  it("cuts nothing from nothing", () => {
    expect(cut([], 25)).toEqual([]);
  });
});

describe("keysFingerprint", () => {
  it("tells key lists apart", () => {
    // Act + Assess
    expect(keysFingerprint(["a", "b"])).toBe(keysFingerprint(["a", "b"]));
    expect(keysFingerprint(["a", "b"])).not.toBe(keysFingerprint(["a", "b", "c"]));
    expect(keysFingerprint(["ab"])).not.toBe(keysFingerprint(["a", "b"]));
  });
});
