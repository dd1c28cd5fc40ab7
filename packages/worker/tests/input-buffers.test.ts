import { describe, expect, it } from "vitest";
import { InputBuffers, POOLED_INPUT_MAX_BYTES } from "../src/input-buffers.js";

describe("InputBuffers", () => {
  it("hands out buffers of the asked length and reuses the memory given back", () => {
    // Prepare
    const pool = new InputBuffers(2);
    const first = pool.take(1_000_000);

    // Act
    pool.give(first);
    const second = pool.take(900_000);

    // Assess
    expect(first.length).toBe(1_000_000);
    expect(second.length).toBe(900_000);
    expect(second.buffer).toBe(first.buffer);
  });

  it("never hands the same memory to two images at once", () => {
    // Prepare
    const pool = new InputBuffers(4);

    // Act
    const a = pool.take(100_000);
    const b = pool.take(100_000);

    // Assess
    expect(a.buffer).not.toBe(b.buffer);
  });

  it("keeps no more than its capacity, nothing it did not allocate, and nothing over the pooled size", () => {
    // Prepare
    const pool = new InputBuffers(1);
    const kept = pool.take(1_000);
    const extra = pool.take(1_000);
    const huge = pool.take(POOLED_INPUT_MAX_BYTES + 1);
    const foreign = Buffer.alloc(2_000);

    // Act
    for (const b of [kept, extra, huge, foreign]) pool.give(b);
    const next = [pool.take(1_000), pool.take(1_000), pool.take(1_000)];

    // Assess: only `kept` came back, once; the rest is fresh memory.
    expect(next.filter((b) => b.buffer === kept.buffer)).toHaveLength(1);
    expect(next.some((b) => [extra.buffer, huge.buffer, foreign.buffer].includes(b.buffer))).toBe(false);
  });

  it("grows a buffer too small for the next original instead of failing", () => {
    // Prepare
    const pool = new InputBuffers(1);
    pool.give(pool.take(1_000));

    // Act
    const bigger = pool.take(5_000_000);

    // Assess
    expect(bigger.length).toBe(5_000_000);
  });
});
