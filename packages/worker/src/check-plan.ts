import { type ItemState, type PlannedOrder, type SliceMessage, SliceRefusedError } from "@thumbs/core";

/**
 * A slice is worked on only when it matches its order's plan: the order is known, and every item names
 * an index of the plan and the very key planned for it. Anything else (a forged or stale message, an
 * order Redis no longer knows) is refused as a whole, loudly, and not retried: retrying cannot fix it.
 * One exception: an index of the order whose plan entry is gone (part of the plan evicted) is not the
 * message's fault; such items are returned, to be recorded as failed rather than left pending forever.
 */
export function checkAgainstPlan(
  slice: SliceMessage,
  order: PlannedOrder | undefined,
  states: readonly ItemState[],
): asserts order is PlannedOrder {
  if (!order) {
    throw new SliceRefusedError(
      slice.orderId,
      `Slice ${slice.sliceIndex} of order "${slice.orderId}" was refused: Redis has no record of the order ` +
        "(never planned, expired, or lost in a restart without persistence). Re-send its order-completed event.",
    );
  }
  const mismatch = slice.items.findIndex(
    (item, i) =>
      item.index >= order.total ||
      (states[i]?.plannedKey !== undefined && states[i]?.plannedKey !== item.key),
  );
  if (mismatch >= 0) {
    const item = slice.items[mismatch]!;
    const why =
      item.index >= order.total
        ? `image ${item.index} is outside the order's ${order.total} images`
        : `image ${item.index} is planned as ${JSON.stringify(states[mismatch]?.plannedKey ?? null)}, ` +
          `not ${JSON.stringify(item.key)}`;
    throw new SliceRefusedError(
      slice.orderId,
      `Slice ${slice.sliceIndex} of order "${slice.orderId}" was refused: ${why}. Slices must name planned images.`,
    );
  }
}
