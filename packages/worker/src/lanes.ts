import type { PlannedOrder, SliceItem, SliceMessage } from "@thumbs/core";
import {
  type Fetched,
  fetchImage,
  type InvocationState,
  type Processed,
  recordImage,
  workImage,
} from "./process-image.js";
import type { WorkerDeps } from "./resize-slice.js";

/**
 * Runs `items` on `deps.concurrency` lanes, each working on one image at a time, and settles with
 * every image's recorded outcome, in the order of `items`.
 *
 * Lanes do not sit idle between images: up to one fetch per lane runs ahead (the image's start
 * recorded, its original downloaded) while the lanes resize and store, and an image's outcome is
 * recorded in Redis while its lane goes on to the next. A free lane takes the oldest fetch, whichever
 * lane's image it overlapped, so the last images of a slice go to whichever lane is free first. At
 * most two originals per lane are held at once: the ones resizing and the ones fetched ahead.
 * Measured effect in docs/PERFORMANCE.md ("Worker CPU and idle lanes").
 *
 * Any failure to record (Redis down) still fails the whole call, as the slice must then be
 * redelivered; per-image failures never do (workImage classifies them).
 */
export async function runLanes(
  deps: WorkerDeps,
  slice: SliceMessage,
  order: PlannedOrder,
  items: readonly SliceItem[],
  invocation: InvocationState,
): Promise<Processed[]> {
  const lanes = Math.max(1, deps.concurrency);
  const queue = [...items];
  const ahead: Array<Promise<Fetched | Processed>> = [];
  const records = new Map<number, Promise<Processed>>();
  // Each is awaited later; handled now, so a failure meanwhile is not an unhandled rejection.
  const handled = <T>(promise: Promise<T>) => {
    promise.catch(() => undefined);
    return promise;
  };
  const fetchAhead = () => {
    while (ahead.length < lanes && queue.length > 0) {
      ahead.push(handled(fetchImage(deps, slice, order, queue.shift()!, invocation)));
    }
  };
  const lane = async () => {
    let laneFreeAt = performance.now();
    for (;;) {
      fetchAhead();
      const next = ahead.shift();
      if (!next) return;
      fetchAhead();
      const current = await next;
      if ("outcome" in current) {
        records.set(current.outcome.index, Promise.resolve(current));
        continue;
      }
      const worked = await workImage(deps, slice, order, current, laneFreeAt);
      laneFreeAt = performance.now();
      records.set(current.item.index, handled(recordImage(deps, slice, order, worked)));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return Promise.all(items.map((item) => records.get(item.index)!));
}
