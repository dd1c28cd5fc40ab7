import type { OrderLedger, OrderProgress } from "@thumbs/core";
import pWaitFor, { TimeoutError } from "p-wait-for";

/**
 * Reads an order's progress every `intervalMs` until every image is accounted for, reporting each
 * change. Progress is read, not awaited as an event: the ledger signals completion only, and the
 * callers show the counts on the way.
 */
export async function awaitOrder(
  ledger: OrderLedger,
  orderId: string,
  options: { timeoutMs?: number; intervalMs?: number; onProgress?: (p: OrderProgress) => void } = {},
): Promise<OrderProgress> {
  const { timeoutMs = 300_000, intervalMs = 100, onProgress } = options;
  let progress: OrderProgress | undefined;
  let last = "";
  const completed = async () => {
    progress = await ledger.getProgress(orderId);
    const signature = `${progress.done}/${progress.failed}/${progress.complete}`;
    if (signature !== last) onProgress?.(progress);
    last = signature;
    return progress.complete && pWaitFor.resolveWith(progress);
  };
  try {
    return await pWaitFor(completed, { interval: intervalMs, timeout: timeoutMs });
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    const counts = progress
      ? `${progress.done} done, ${progress.failed} failed of ${progress.total}`
      : "its progress was never read";
    throw new Error(`Order ${orderId} did not complete within ${timeoutMs} ms: ${counts}.`, { cause: error });
  }
}
