import { thumbnailKey } from "@thumbs/core";
import { type LocalStack, listKeys } from "@thumbs/local";
import { expect, vi } from "vitest";

/**
 * The checker, kept apart from the code it checks (Jepsen-style): it reads Redis and S3 directly, with
 * its own commands, never through the ledger, and judges the order against the promise for every
 * planned image:
 *
 * - the plan holds exactly the keys that were in the order when it was planned, each under one index;
 * - done ⇒ both thumbnails of that key are in S3, and there is no error record;
 * - failed ⇒ exactly one error record, naming that index and that key, and no thumbnails;
 * - nothing is pending, and no image is both;
 * - the counters equal the bitmaps, and done + failed == total;
 * - the backend heard exactly one completion event (at least one when publishing was faulted), and
 *   its last event (an update, when counts changed after completion) has the final counts;
 * - no thumbnail exists for a key outside the plan.
 */
export async function auditOrder(
  stack: LocalStack,
  orderId: string,
  expected: { planned: readonly string[]; events?: "one" | "at-least-one"; sizes?: readonly string[] },
): Promise<{ done: string[]; failed: Array<{ key: string; class: string; message: string }> }> {
  const { redis, keyPrefix } = stack;
  const base = `${keyPrefix}{${orderId}}`;
  const meta = await redis.hgetall(`${base}:meta`);
  const plan = await redis.hgetall(`${base}:keys`);
  const errors = await redis.hgetall(`${base}:errors`);
  const total = Number(meta.total);

  // The plan: exactly the order's keys, one index each, indices 0…total-1.
  expect(total, "total").toBe(expected.planned.length);
  expect(
    Object.keys(plan)
      .map(Number)
      .sort((a, b) => a - b),
  ).toEqual([...Array(total).keys()]);
  expect([...Object.values(plan)].sort()).toEqual([...expected.planned].sort());

  const sizes = expected.sizes ?? ["large", "small"];
  const format = JSON.parse(meta.output ?? "{}").format as "jpeg" | "webp";
  const thumbnails = new Set(
    await listKeys(stack.emulator.clients.s3, stack.emulator.resources.thumbnailBucket, `${orderId}/`),
  );
  const pipeline = redis.pipeline();
  for (let i = 0; i < total; i++) pipeline.getbit(`${base}:done`, i).getbit(`${base}:failed`, i);
  const bits = ((await pipeline.exec()) ?? []).map(([, v]) => v as number);

  const done: string[] = [];
  const failed: Array<{ key: string; class: string; message: string }> = [];
  const expectedThumbnails = new Set<string>();
  for (let i = 0; i < total; i++) {
    const key = plan[String(i)]!;
    const [isDone, isFailed] = [bits[2 * i] === 1, bits[2 * i + 1] === 1];
    const where = `image ${i} (${JSON.stringify(key)})`;
    const names = sizes.map((size) => thumbnailKey({ prefix: "", orderId, size, sourceKey: key, format }));
    for (const name of names) expectedThumbnails.add(name);
    expect(
      isDone !== isFailed,
      `${where} must be exactly one of done or failed (done=${isDone}, failed=${isFailed})`,
    ).toBe(true);
    if (isDone) {
      expect(errors[String(i)], `${where} is done, so it has no error record`).toBeUndefined();
      for (const name of names)
        expect(thumbnails.has(name), `${where} is done, so ${name} is in S3`).toBe(true);
      done.push(key);
    } else {
      const record = JSON.parse(errors[String(i)] ?? "null") as {
        index: number;
        key: string;
        class: string;
        message: string;
      } | null;
      expect(record, `${where} is failed, so it has an error record`).not.toBeNull();
      for (const name of names)
        expect(thumbnails.has(name), `${where} is failed, so ${name} is not in S3`).toBe(false);
      expect({ index: record!.index, key: record!.key }, `${where}'s record names itself`).toEqual({
        index: i,
        key,
      });
      failed.push({ key, class: record!.class, message: record!.message });
    }
  }
  expect(Object.keys(errors).length, "one error record per failed image, no more").toBe(failed.length);
  expect({ done: Number(meta.done), failed: Number(meta.failed) }, "counters equal the bitmaps").toEqual({
    done: done.length,
    failed: failed.length,
  });
  expect(meta.completedAt, "the order is complete").toBeDefined();

  // No thumbnail of a key outside the plan.
  for (const name of thumbnails)
    expect(expectedThumbnails.has(name), `${name} belongs to a planned image`).toBe(true);

  // The backend heard of it, with the final counts (the last event, when it may hear more than once).
  const final = { orderId, total, done: done.length, failed: failed.length };
  const heard = await vi.waitFor(
    () => {
      const events = stack.orderEvents.events.filter((e) => e.orderId === orderId);
      if (!events.some((e) => e.done === final.done && e.failed === final.failed)) {
        throw new Error(
          `no completion event for ${orderId} with ${JSON.stringify(final)} yet: ${JSON.stringify(events)}`,
        );
      }
      return events;
    },
    { timeout: 30_000, interval: 50 },
  );
  const completions = heard.filter((e) => e.type === "order-thumbnails-completed");
  if ((expected.events ?? "one") === "one")
    expect(completions, "exactly one completion event").toHaveLength(1);
  expect(heard.at(-1)).toMatchObject(final);
  return { done, failed };
}
