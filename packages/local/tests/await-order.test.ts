import type { OrderLedger, OrderProgress } from "@thumbs/core";
import { afterEach, describe, expect, it } from "vitest";
import { awaitOrder } from "../src/await-order.js";

// A ledger that reports the order complete on its `reads`-th read: awaitOrder reads nothing else.
function ledgerCompletingAfter(reads: number): OrderLedger {
  let read = 0;
  const progress = (done: number): OrderProgress =>
    ({ orderId: "o", total: reads, done, failed: 0, complete: done === reads }) as OrderProgress;
  return { getProgress: async () => progress(++read) } as unknown as OrderLedger;
}

describe("awaitOrder", () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  afterEach(() => {
    process.off("warning", onWarning);
    warnings.length = 0;
  });

  it("polls many times under one timeout without leaking a listener per poll", async () => {
    // Prepare: p-wait-for 6.0.0 left an abort listener per interval on its timeout signal, which
    // Node 20 reports as a leak after 10 (patches/p-wait-for@6.0.0.patch).
    process.on("warning", onWarning);
    const seen: number[] = [];

    // Act
    const progress = await awaitOrder(ledgerCompletingAfter(40), "o", {
      intervalMs: 1,
      timeoutMs: 60_000,
      onProgress: (p) => seen.push(p.done),
    });
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick

    // Assess
    expect(progress.complete).toBe(true);
    expect(seen).toHaveLength(40);
    expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
  });

  it("names the counts it last read when the order does not complete in time", async () => {
    // Prepare
    const never = ledgerCompletingAfter(Number.POSITIVE_INFINITY);

    // Act
    const waited = awaitOrder(never, "o", { intervalMs: 1, timeoutMs: 50 });

    // Assess
    await expect(waited).rejects.toThrow(/did not complete within 50 ms: \d+ done, 0 failed of Infinity/);
  });
});
