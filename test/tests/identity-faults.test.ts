import { type AdminServer, awaitOrder, deleteKeys, type LocalStack, startAdminServer } from "@thumbs/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditOrder } from "./helpers/audit.js";
import { uploadNamed } from "./helpers/orders.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

describe("orders never get stuck: poison images, stalled S3, a wiped Redis", () => {
  let stack: LocalStack;
  let admin: AdminServer;
  const emit = (orderId: string) =>
    stack.emitOrderCompleted({
      orderId,
      bucket: stack.emulator.resources.sourceBucket,
      prefix: `orders/${orderId}/`,
    });

  beforeAll(async () => {
    stack = await testStack({
      sliceSize: 4,
      visibilityTimeoutSeconds: 3,
      faults: {},
      // POISON kills the worker that fetches it (test-only fault injection of the local runtime); a 2 s
      // image deadline and no Transient re-queue keep the stalled-S3 case short.
      workerEnv: { LOCAL_FAULT_CRASH_ON: "POISON", IMAGE_TIMEOUT_SECONDS: "2", MAX_TRANSIENT_RETRIES: "0" },
    });
    admin = await startAdminServer(stack);
  });
  afterAll(async () => {
    await admin?.close();
    await stack?.stop();
  });

  it("records an image that kills its worker every time as Crashed, finishes its neighbours, and can retry it", async () => {
    // Prepare
    const orderId = uniqueOrderId("poison");
    const keys = await uploadNamed(stack, orderId, [
      "a 1.jpg",
      "b 2.jpg",
      "POISON 3.jpg",
      "c 4.jpg",
      "d 5.jpg",
      "e 6.jpg",
    ]);

    // Act
    await emit(orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 90_000 });
    const retry = await fetch(`${admin.url}/api/orders/${orderId}/retry`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: "{}",
    });

    // Assess
    const { failed } = await auditOrder(stack, orderId, { planned: keys });
    expect(failed).toEqual([
      {
        key: `orders/${orderId}/POISON 3.jpg`,
        class: "Crashed",
        message: expect.stringMatching(/died 2 times/),
      },
    ]);
    expect(stack.workers.events.some((e) => e.type === "exited")).toBe(true);
    expect(retry.status).toBe(202);
    expect(await retry.json()).toMatchObject({ images: 1, slices: 1 });
  });

  it("ends a stalled S3 read at the image's deadline as Transient, and the order completes", async () => {
    // Prepare: the proxy holds every request for this one original unanswered.
    const orderId = uniqueOrderId("stall");
    const keys = await uploadNamed(stack, orderId, ["IMG 1.JPG", "IMG 2.JPG", "STALLED.JPG"]);
    stack.faultProxy!.configure({ stallOn: "STALLED.JPG" });

    // Act
    try {
      await emit(orderId);
      await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });
    } finally {
      stack.faultProxy!.configure({ stallOn: undefined });
    }

    // Assess
    const { failed } = await auditOrder(stack, orderId, { planned: keys });
    expect(failed).toEqual([
      {
        key: `orders/${orderId}/STALLED.JPG`,
        class: "Transient",
        message: expect.stringMatching(/deadline/),
      },
    ]);
  });

  it("waits for an image another live worker is on, instead of taking its start for a crash", async () => {
    // Prepare: one original stalls; the same event arrives three times, so its slice runs on three
    // workers at once, as duplicate deliveries would have it.
    const orderId = uniqueOrderId("overlap");
    const keys = await uploadNamed(stack, orderId, ["one.jpg", "SLOWSTALL.jpg"]);
    stack.faultProxy!.configure({ stallOn: "SLOWSTALL" });

    // Act
    try {
      await Promise.all([emit(orderId), emit(orderId), emit(orderId)]);
      await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });
    } finally {
      stack.faultProxy!.configure({ stallOn: undefined });
    }

    // Assess: the slow image failed for what it was (its deadline), not as a crash.
    const { failed } = await auditOrder(stack, orderId, { planned: keys });
    expect(failed).toEqual([
      {
        key: `orders/${orderId}/SLOWSTALL.jpg`,
        class: "Transient",
        message: expect.stringMatching(/deadline/),
      },
    ]);
  });

  it("says an order's records may be lost when Redis lost them, and a re-sent event recovers it", async () => {
    // Prepare: an order whose records vanish, as in a restart without persistence.
    const orderId = uniqueOrderId("wiped");
    const keys = await uploadNamed(stack, orderId, ["x.jpg", "y.jpg"]);
    await emit(orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });
    await deleteKeys(stack.redis, `${stack.keyPrefix}{${orderId}}`);

    // Act
    const lost = await fetch(`${admin.url}/api/orders/${orderId}`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    await emit(orderId);
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });

    // Assess
    expect(lost.status).toBe(404);
    expect(((await lost.json()) as { error: string }).error).toMatch(
      /Redis lost them.*Re-send its order-completed event/,
    );
    await auditOrder(stack, orderId, { planned: keys, events: "at-least-one" });
  });
});
