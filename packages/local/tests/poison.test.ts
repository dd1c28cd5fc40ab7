import { afterEach, describe, expect, it } from "vitest";
import { awaitOrder } from "../src/await-order.js";
import { samplePhoto } from "../src/sample-images.js";
import { type LocalStack, startLocalStack } from "../src/stack.js";
import { emit, uniqueOrderId, uploadPhotos, useRedis } from "./helpers/stack.js";

const redis = useRedis();

describe("a poison image that crashes its worker", () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("costs a worker per delivery until the worker gives it up as Crashed; the rest of the order is done", async () => {
    // Prepare: every worker that downloads POISON.jpg is killed (SIGKILL) shortly after, mid-slice.
    stack = await startLocalStack({
      workers: 2,
      sliceSize: 2,
      // A running delivery keeps its message invisible by renewing this; under CI load a 1 s window can lapse.
      visibilityTimeoutSeconds: 3,
      redis: redis(),
      workerEnv: { LOCAL_FAULT_CRASH_ON: "POISON" },
    });
    const orderId = uniqueOrderId("poison");
    const poison = { name: "POISON.jpg", data: (await samplePhoto(0, { megapixels: 0.1 })).data };
    const keys = await uploadPhotos(stack, orderId, 3, [poison]);
    const poisonKey = keys.find((k) => k.endsWith("POISON.jpg"))!;

    // Act
    await emit(stack, orderId, keys);
    const progress = await awaitOrder(stack.ledger, orderId, { timeoutMs: 45_000 });

    // Assess: the crashed deliveries each cost a worker, each was replaced, and the redelivery that
    // found the image had killed workers before recorded it as Crashed instead of trying again.
    const { workers } = stack;
    const exited = workers.events.filter((e) => e.type === "exited");
    expect(exited.length).toBeGreaterThanOrEqual(2);
    expect(exited.every((e) => e.signal === "SIGKILL")).toBe(true);
    await expect.poll(() => workers.processes.length).toBe(2);
    expect(progress).toMatchObject({ total: 4, done: 3, failed: 1, complete: true });
    expect(await stack.ledger.failedRecords(orderId)).toEqual([
      expect.objectContaining({ key: poisonKey, class: "Crashed" }),
    ]);
    expect(await stack.orderEvents.waitFor(orderId)).toMatchObject({ orderId, done: 3, failed: 1 });
  });
});
