import { type AdminServer, awaitOrder, type LocalStack, listKeys, startAdminServer } from "@thumbs/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadNamed } from "./helpers/orders.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

describe("the admin API keeps to the order: thumbnails on demand only for its planned images", () => {
  let stack: LocalStack;
  let admin: AdminServer;
  const orderA = uniqueOrderId("boundary-a");
  const orderB = uniqueOrderId("boundary-b");
  const accented = "Été 1.jpg".normalize("NFC");
  let keysA: string[];
  let keysB: string[];
  const thumbnailsOf = (orderId: string) =>
    listKeys(stack.emulator.clients.s3, stack.emulator.resources.thumbnailBucket, `${orderId}/`);
  const onDemand = (query: string) =>
    fetch(`${admin.url}/api/orders/${orderA}/thumbnails/small?${query}`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });

  beforeAll(async () => {
    // Prepare: two orders, and an object of the same bucket that belongs to no order.
    stack = await testStack({ sliceSize: 4 });
    const bucket = stack.emulator.resources.sourceBucket;
    keysA = await uploadNamed(stack, orderA, [accented, "photo.jpg"]);
    keysB = await uploadNamed(stack, orderB, ["b.jpg"]);
    await uploadNamed(stack, "private", ["passport-scan.jpg"]);
    await stack.emitOrderCompleted({ orderId: orderA, bucket, keys: keysA });
    await stack.emitOrderCompleted({ orderId: orderB, bucket, keys: keysB });
    await awaitOrder(stack.ledger, orderA, { timeoutMs: 30_000 });
    await awaitOrder(stack.ledger, orderB, { timeoutMs: 30_000 });
    admin = await startAdminServer(stack);
  });
  afterAll(async () => {
    await admin?.close();
    await stack?.stop();
  });

  it.each([
    ["another order's image", () => `orders/${orderB}/b.jpg`],
    ["an object in no order", () => "orders/private/passport-scan.jpg"],
    ["a key that differs only in case", () => `orders/${orderA}/PHOTO.JPG`],
    [
      "a key that differs only in unicode normalisation",
      () => `orders/${orderA}/${accented.normalize("NFD")}`,
    ],
  ])("refuses %s with 404, reading and storing nothing", async (_, key) => {
    // Prepare
    const before = await thumbnailsOf(orderA);

    // Act
    const response = await onDemand(`key=${encodeURIComponent(key())}`);

    // Assess
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toMatch(/is not an image of order/);
    expect(await thumbnailsOf(orderA)).toEqual(before);
  });

  it("serves the planned images, by exact key or by index, and refuses other indices", async () => {
    // Act
    const byKey = await onDemand(`key=${encodeURIComponent(`orders/${orderA}/${accented}`)}`);
    const byIndex = await onDemand("index=1");
    const outside = await onDemand("index=2");
    const hex = await onDemand("index=0x1");

    // Assess
    expect([byKey.status, byIndex.status, outside.status, hex.status]).toEqual([200, 200, 404, 400]);
    expect(byKey.headers.get("content-type")).toBe("image/jpeg");
  });
});
