import { randomUUID } from "node:crypto";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  announceCompletion,
  DEFAULT_OUTPUT,
  ImageFailure,
  OrderConflictError,
  OrderLedger,
  OrderNotFoundError,
  OrderThumbnailsCompletedSchema,
  orderKeys,
  PublishError,
} from "@thumbs/core";
import { deleteKeys } from "@thumbs/local";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis } from "./helpers/stack.js";

describe("OrderLedger on a real Redis: exact, idempotent accounting", () => {
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  let redis: Redis;
  let other: Redis;
  let ledger: OrderLedger;
  /** Stages a plan of `total` keys (k0, k1, …) and commits it, as the coordinator does. */
  const init = async (
    orderId: string,
    total: number,
    source = "keys:f",
    extra: { failureThresholdPercent?: number } = {},
  ) => {
    const runId = randomUUID();
    await ledger.stagePlan(
      orderId,
      runId,
      Array.from({ length: total }, (_, i) => `k${i}`),
    );
    return ledger.initOrder({
      orderId,
      runId,
      total,
      identity: { bucket: "b", source, output: DEFAULT_OUTPUT },
      source: "test",
      ...extra,
    });
  };
  const failure = (cls: "Corrupt" | "Transient" = "Corrupt") => new ImageFailure(cls, `${cls} image`);

  beforeAll(() => {
    redis = testRedis();
    other = testRedis();
    ledger = new OrderLedger(redis, { keyPrefix: prefix, ttlSeconds: 3600 });
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    other.disconnect();
  });

  it("initialises an order once and keeps its progress on a duplicate event", async () => {
    // Prepare
    await init("dup", 3);
    await ledger.recordDone("dup", 0);

    // Act
    const again = await init("dup", 3);

    // Assess
    expect(again).toBe("exists");
    expect(await ledger.getProgress("dup")).toMatchObject({ total: 3, done: 1, failed: 0, pending: 2 });
  });

  it("refuses to re-plan an order with other images, and keeps the first plan", async () => {
    // Prepare
    await init("conflict", 3, "keys:a");

    // Act + Assess: another count of images, then the same count from another source.
    await expect(init("conflict", 4, "keys:b")).rejects.toBeInstanceOf(OrderConflictError);
    await expect(init("conflict", 3, "keys:b")).rejects.toThrow(/source was "keys:a", now "keys:b"/);

    // Assess
    expect(await ledger.plannedKeys("conflict", 0, 5)).toEqual(
      [0, 1, 2].map((index) => ({ index, key: `k${index}` })),
    );
    // Every refused run's staging plan is gone: only the order's own keys remain under its slot.
    expect(await redis.keys(`${prefix}{conflict}:plan:*`)).toEqual([]);
  });

  it("counts a duplicate outcome once", async () => {
    // Prepare
    await init("idem", 2);

    // Act + Assess: each outcome twice, the second one not counted.
    expect(await ledger.recordDone("idem", 0)).toEqual({ counted: true, completed: false });
    expect(await ledger.recordDone("idem", 0)).toEqual({ counted: false, completed: false });
    const f = { index: 1, key: "k1", sliceIndex: 0, failure: failure() };
    expect(await ledger.recordFailed("idem", f)).toEqual({ counted: true, completed: true });
    expect(await ledger.recordFailed("idem", f)).toEqual({ counted: false, completed: false });

    // Assess
    expect(await ledger.getProgress("idem")).toMatchObject({ done: 1, failed: 1, complete: true });
  });

  it("keeps a done image done when a late duplicate fails", async () => {
    // Prepare
    await init("done-wins", 2);
    await ledger.recordDone("done-wins", 0);

    // Act
    await ledger.recordFailed("done-wins", {
      index: 0,
      key: "k0",
      sliceIndex: 0,
      failure: failure("Transient"),
    });

    // Assess
    expect(await ledger.getProgress("done-wins")).toMatchObject({ done: 1, failed: 0 });
    expect((await ledger.listErrors("done-wins", { offset: 0, limit: 10 })).total).toBe(0);
  });

  it("moves a failed image to done when a retry succeeds, dropping its error record", async () => {
    // Prepare: the order's one image failed.
    await init("retry", 1);
    await ledger.recordFailed("retry", { index: 0, key: "k0", sliceIndex: 0, failure: failure("Transient") });
    expect(await ledger.getProgress("retry")).toMatchObject({ failed: 1, status: "completed_with_errors" });

    // Act
    const moved = await ledger.recordDone("retry", 0);

    // Assess
    expect(moved).toEqual({ counted: true, completed: false });
    expect(await ledger.getProgress("retry")).toMatchObject({
      done: 1,
      failed: 0,
      status: "succeeded",
      complete: true,
    });
    expect((await ledger.listErrors("retry", { offset: 0, limit: 10 })).records).toEqual([]);
  });

  it("signals completion exactly once when many writers race on the last images", async () => {
    // Prepare: 400 images, recorded from two connections at once, every outcome twice.
    const total = 400;
    await init("race", total);
    const second = new OrderLedger(other, { keyPrefix: prefix, ttlSeconds: 3600 });

    // Act
    const results = await Promise.all(
      Array.from({ length: total * 2 }, (_, n) => {
        const index = n % total;
        const writer = n % 2 === 0 ? ledger : second;
        return index % 10 === 0
          ? writer.recordFailed("race", { index, key: `k${index}`, sliceIndex: 0, failure: failure() })
          : writer.recordDone("race", index);
      }),
    );

    // Assess
    expect(results.filter((r) => r.counted)).toHaveLength(total);
    expect(results.filter((r) => r.completed)).toHaveLength(1);
    expect(await ledger.getProgress("race")).toMatchObject({ total, done: 360, failed: 40, complete: true });
    expect((await ledger.completions()).filter((c) => c.orderId === "race")).toEqual([
      { orderId: "race", total, done: 360, failed: 40 },
    ]);
  });

  it("publishes the completion event once the order is complete, again after a failed publish, then never", async () => {
    // Prepare: SNS is faked only to make one publish fail; Redis is real.
    await init("announce", 2);
    const published: string[] = [];
    let failNext = false;
    const sns = {
      send: async (command: { input: { Message: string } }) => {
        if (failNext) {
          failNext = false;
          throw new Error("SNS throttled");
        }
        published.push(command.input.Message);
        return {};
      },
    } as unknown as SNSClient;
    const announce = () =>
      announceCompletion(sns, "arn:aws:sns:us-east-1:0:events", ledger, "announce", "slice:0");

    // Act
    const beforeComplete = await announce();
    await ledger.recordDone("announce", 0);
    await ledger.recordFailed("announce", { index: 1, key: "k1", sliceIndex: 0, failure: failure() });
    failNext = true;
    const failedPublish = await announce().catch((e) => e);
    const retried = await announce();
    const afterwards = await Promise.all([announce(), announce()]);

    // Assess
    expect(beforeComplete).toBe(false);
    expect(failedPublish).toBeInstanceOf(PublishError);
    expect(retried).toBe(true);
    expect(afterwards).toEqual([false, false]);
    expect(published).toHaveLength(1);
    expect(OrderThumbnailsCompletedSchema.parse(JSON.parse(published[0]!))).toMatchObject({
      type: "order-thumbnails-completed",
      orderId: "announce",
      status: "completed_with_errors",
      total: 2,
      done: 1,
      failed: 1,
    });
  });

  it("sends one completion event when several find the order complete at once", async () => {
    // Prepare
    await init("claims", 1);
    await ledger.recordDone("claims", 0);
    const published: string[] = [];
    const sns = { send: async (c: { input: { Message: string } }) => void published.push(c.input.Message) };
    const announce = (claimant: string) =>
      announceCompletion(
        sns as unknown as SNSClient,
        "arn:aws:sns:us-east-1:0:e",
        ledger,
        "claims",
        claimant,
      );

    // Act: three duplicate events and two slices, all at once.
    const results = await Promise.all(
      ["order-completed:a", "order-completed:b", "order-completed:c", "slice:0", "slice:1"].map(announce),
    );

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it("lets a claimant that died before publishing take its claim back on retry; others wait for it to lapse", async () => {
    // Prepare: slice 4 claims the event, then dies before publishing.
    await init("dead-claim", 1);
    await ledger.recordDone("dead-claim", 0);
    expect(await ledger.claimAnnouncement("dead-claim", "slice:4")).toBe(true);
    const sns = { send: async () => ({}) } as unknown as SNSClient;
    const announce = (claimant: string) =>
      announceCompletion(sns, "arn:aws:sns:us-east-1:0:e", ledger, "dead-claim", claimant);

    // Act
    const other = await announce("slice:5");
    const retry = await announce("slice:4");
    const after = await announce("slice:5");

    // Assess
    expect([other, retry, after]).toEqual([false, true, false]);
    expect(await redis.hget(orderKeys(prefix, "dead-claim").meta, "announcedAt")).not.toBeNull();
  });

  it("sends one event when duplicate deliveries of one slice find the order complete at once", async () => {
    // Prepare: two live invocations of slice 0 (each holds its lease), as a duplicate SNS delivery runs.
    await init("twins", 1);
    await ledger.recordDone("twins", 0);
    await Promise.all([ledger.holdLease("twin-a", 10_000), ledger.holdLease("twin-b", 10_000)]);
    const published: string[] = [];
    const sns = { send: async (c: { input: { Message: string } }) => void published.push(c.input.Message) };
    const announce = (claimant: string) =>
      announceCompletion(sns as unknown as SNSClient, "arn:aws:sns:us-east-1:0:e", ledger, "twins", claimant);

    // Act
    const results = await Promise.all([announce("slice:0#twin-a"), announce("slice:0#twin-b")]);

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(published).toHaveLength(1);
    await Promise.all([ledger.dropLease("twin-a"), ledger.dropLease("twin-b")]);
  });

  it("takes over at once a claim its slice's dead invocation left; waits out a live one's", async () => {
    // Prepare: invocation "gone" of slice 2 claimed the event and died (no lease); "busy" is alive.
    await init("twin-dead", 1);
    await ledger.recordDone("twin-dead", 0);
    expect(await ledger.claimAnnouncement("twin-dead", "slice:2#gone")).toBe(true);
    const sns = { send: async () => ({}) } as unknown as SNSClient;
    const announce = (order: string, claimant: string) =>
      announceCompletion(sns, "arn:aws:sns:us-east-1:0:e", ledger, order, claimant);
    await init("twin-live", 1);
    await ledger.recordDone("twin-live", 0);
    await ledger.holdLease("busy", 10_000);
    expect(await ledger.claimAnnouncement("twin-live", "slice:3#busy")).toBe(true);

    // Act
    const retry = await announce("twin-dead", "slice:2#retry");
    const other = await announce("twin-dead", "slice:5#other");
    const refused = await ledger.claimAnnouncement("twin-live", "slice:3#dup", 300);
    const deadLetters = await announce("twin-live", "slice:3#dead-letters").catch((e) => e);

    // Assess: the dead twin's claim went to its retry; a live twin's is not taken, even by DeadLetters
    // (which waits for it, then finds the claim still held and leaves the event to its holder).
    expect([retry, other, refused]).toEqual([true, false, false]);
    expect(await redis.hget(orderKeys(prefix, "twin-dead").meta, "announcedAt")).not.toBeNull();
    expect(deadLetters).toBe(false);
    await ledger.dropLease("busy");
  }, 20_000);

  it("counts an image's starts until an outcome is recorded", async () => {
    // Prepare
    await init("starts", 2);

    // Act
    const first = await ledger.startImage("starts", 0, "invocation-a");
    const second = await ledger.startImage("starts", 0, "invocation-a");
    await ledger.recordDone("starts", 0);
    const state = await ledger.sliceState("starts", [0, 1]);

    // Assess
    expect([first, second]).toEqual([1, 2]);
    expect(state.items).toEqual([
      {
        plannedKey: "k0",
        done: true,
        failed: false,
        failureClass: undefined,
        unfinishedStarts: 0,
        lastStartBy: undefined,
      },
      {
        plannedKey: "k1",
        done: false,
        failed: false,
        failureClass: undefined,
        unfinishedStarts: 0,
        lastStartBy: undefined,
      },
    ]);
  });

  it("completes an empty order at once", async () => {
    // Act
    await init("empty", 0);

    // Assess
    expect(await ledger.getProgress("empty")).toMatchObject({
      total: 0,
      complete: true,
      status: "succeeded",
    });
  });

  it("rejects outcomes for unknown orders and out-of-range indices", async () => {
    // Act + Assess: an order never planned.
    await expect(ledger.recordDone("never-planned", 0)).rejects.toBeInstanceOf(OrderNotFoundError);

    // Prepare
    await init("range", 2);

    // Act + Assess: an index past the end of a planned order.
    await expect(ledger.recordDone("range", 2)).rejects.toThrow(/outside order/);
  });

  it("pages error records newest first and filters them by class", async () => {
    // Prepare
    await init("pages", 5);
    for (let i = 0; i < 5; i++) {
      await ledger.recordFailed(
        "pages",
        { index: i, key: `k${i}`, sliceIndex: 0, failure: failure(i % 2 ? "Transient" : "Corrupt") },
        new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      );
    }

    // Act
    const first = await ledger.listErrors("pages", { offset: 0, limit: 2 });
    const second = await ledger.listErrors("pages", { offset: 2, limit: 2 });
    const transient = await ledger.listErrors("pages", { offset: 0, limit: 10, class: "Transient" });

    // Assess
    expect(first.total).toBe(5);
    expect([...first.records, ...second.records].map((r) => r.key)).toEqual(["k4", "k3", "k2", "k1"]);
    expect(transient.records.map((r) => r.key)).toEqual(["k3", "k1"]);
    expect(first.records[0]).toMatchObject({ class: "Corrupt", message: "Corrupt image", sliceIndex: 0 });
  });

  it("marks an order failed as soon as its failures pass the threshold, and un-marks it when retries fix them", async () => {
    // Prepare
    await init("threshold", 10, "keys:f", { failureThresholdPercent: 20 });
    const fail = (index: number) =>
      ledger.recordFailed("threshold", { index, key: `k${index}`, sliceIndex: 0, failure: failure() });

    // Act + Assess: 2 of 10 is not over 20%; 3 is, long before the order is complete.
    await fail(0);
    await fail(1);
    expect(await ledger.getProgress("threshold")).toMatchObject({ status: "running", failureReason: null });
    await fail(2);
    expect(await ledger.getProgress("threshold")).toMatchObject({
      status: "failed",
      complete: false,
      failureReason: "3 of 10 images failed (30.0%), over the order failure threshold of 20%",
    });
    await ledger.recordDone("threshold", 2);
    expect(await ledger.getProgress("threshold")).toMatchObject({ status: "running", failureReason: null });
  });

  it("counts dismissed errors, and forgets the dismissal when the image is retried", async () => {
    // Prepare
    await init("dismiss", 2);
    await ledger.recordFailed("dismiss", { index: 0, key: "k0", sliceIndex: 0, failure: failure() });

    // Act + Assess: dismissing is idempotent, and only a failed image has an error to dismiss.
    expect(await ledger.dismissError("dismiss", 0)).toBe(true);
    expect(await ledger.dismissError("dismiss", 0)).toBe(true);
    expect(await ledger.dismissError("dismiss", 1)).toBe(false);
    expect(await ledger.getProgress("dismiss")).toMatchObject({ failed: 1, dismissed: 1 });
    expect((await ledger.listErrors("dismiss", { offset: 0, limit: 10 })).total).toBe(0);
    expect((await ledger.listErrors("dismiss", { offset: 0, limit: 10, includeDismissed: true })).total).toBe(
      1,
    );

    // Act: the image is tried again and fails again.
    await ledger.recordFailed("dismiss", {
      index: 0,
      key: "k0",
      sliceIndex: 0,
      failure: failure("Transient"),
    });

    // Assess
    expect(await ledger.getProgress("dismiss")).toMatchObject({ failed: 1, dismissed: 0 });
  });

  it("puts a TTL on every key it writes", async () => {
    // Prepare
    await init("ttl", 2);
    await ledger.recordDone("ttl", 0);
    await ledger.recordFailed("ttl", { index: 1, key: "k", sliceIndex: 0, failure: failure() });
    await ledger.claimAnnouncement("ttl", "slice:0");
    await ledger.startImage("ttl", 1, "invocation-a");

    // Act
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    const ttls = await Promise.all(keys.map((k) => redis.ttl(k)));

    // Assess
    expect(keys).toEqual(expect.arrayContaining(Object.values(orderKeys(prefix, "ttl"))));
    expect(keys).toContain(`${prefix}orders`);
    expect(keys).toContain(`${prefix}completions`);
    for (const [i, ttl] of ttls.entries())
      expect({ key: keys[i], ttl: ttl > 0 }).toEqual({ key: keys[i], ttl: true });
  });
});
