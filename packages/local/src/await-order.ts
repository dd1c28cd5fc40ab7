import { setTimeout as sleep } from "node:timers/promises";
import type { OrderLedger, OrderProgress } from "@thumbs/core";

/** Polls an order's progress until every image is accounted for, reporting each change. */
export async function awaitOrder(
  ledger: OrderLedger,
  orderId: string,
  options: { timeoutMs?: number; intervalMs?: number; onProgress?: (p: OrderProgress) => void } = {},
): Promise<OrderProgress> {
  const { timeoutMs = 300_000, intervalMs = 100, onProgress } = options;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const progress = await ledger.getProgress(orderId);
    const signature = `${progress.done}/${progress.failed}/${progress.complete}`;
    if (signature !== last) onProgress?.(progress);
    last = signature;
    if (progress.complete) return progress;
    if (Date.now() > deadline) {
      throw new Error(
        `Order ${orderId} did not complete within ${timeoutMs} ms: ${progress.done} done, ${progress.failed} failed of ${progress.total}.`,
      );
    }
    await sleep(intervalMs);
  }
}
