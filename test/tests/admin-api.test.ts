import { connect } from "node:net";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import {
  type AdminServer,
  awaitOrder,
  brokenSamples,
  type LocalStack,
  samplePhotos,
  startAdminServer,
  uploadOrder,
} from "@thumbs/local";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slicesReported, testStack, uniqueOrderId } from "./helpers/stack.js";

/**
 * Writes `data` (a request head, perhaps part of a body) on a fresh connection to `url`, then nothing
 * more, and returns what the server sent by the time it closed the connection; rejects if it is still
 * open after `withinMs` (a bound, not a wait).
 */
function rawExchange(url: string, data: string, withinMs = 3_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(Number(port), hostname, () => socket.write(data));
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error(`The server still held the connection open after ${withinMs} ms; got: ${text}`));
    }, withinMs);
    socket.setEncoding("latin1").on("data", (chunk: string) => (text += chunk));
    socket.on("error", () => {});
    socket.once("close", () => {
      clearTimeout(bound);
      resolve(text);
    });
  });
}

describe("the admin API over HTTP, on fauxqs, real workers and a real Redis", () => {
  let stack: LocalStack;
  let admin: AdminServer;
  /** The order the read-only tests look at: no test changes it. Tests that change an order place their own. */
  let shared: PlacedOrder;

  interface PlacedOrder {
    orderId: string;
    key: (name: string) => string;
  }

  /**
   * Plans an order of `photos` sample photos, the three broken samples and one key with no object behind
   * it (so `photos` done, 4 failed), and resolves once it is complete and each of its slices reported.
   */
  const placeOrder = async (label: string, photos: number): Promise<PlacedOrder> => {
    const orderId = uniqueOrderId(label);
    const prefix = `orders/${orderId}/`;
    const key = (name: string) => `${prefix}${name}`;
    const bucket = stack.emulator.resources.sourceBucket;
    const keys = await uploadOrder(stack.emulator.clients.s3, bucket, prefix, [
      ...(await samplePhotos(photos, { seed: label, megapixels: 0.2 })),
      ...(await brokenSamples()),
    ]);
    const plan = await stack.emitOrderCompleted({ orderId, bucket, keys: [...keys, key("missing.jpg")] });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });
    await slicesReported(stack, orderId, plan.slices);
    return { orderId, key };
  };
  const call = async (path: string, init: { method?: string; body?: string; auth?: string | null } = {}) => {
    const { auth = `Bearer ${admin.token}`, ...rest } = init;
    const response = await fetch(`${admin.url}/api${path}`, {
      ...rest,
      headers: auth ? { authorization: auth } : {},
    });
    const type = response.headers.get("content-type") ?? "";
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
    const body: any = type.startsWith("application/json")
      ? await response.json()
      : Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  };
  const errorRecords = async (orderId: string): Promise<Array<{ index: number; key: string }>> =>
    (await call(`/orders/${orderId}/errors?dismissed=include`)).body.records;
  const aDoneIndex = async (order: PlacedOrder, total: number): Promise<number> => {
    const failed = (await errorRecords(order.orderId)).map((r) => r.index);
    return [...Array(total).keys()].find((i) => !failed.includes(i))!;
  };
  const indexOf = async (order: PlacedOrder, name: string): Promise<number> =>
    (await errorRecords(order.orderId)).find((r) => r.key === order.key(name))!.index;
  const sliceReportsOf = (orderId: string) =>
    stack.workers.events
      .flatMap((e) => (e.type === "slices" ? e.reports : []))
      .filter((r) => r.orderId === orderId);

  beforeAll(async () => {
    // Prepare: 6 photos, 3 broken files and one missing key, resized and accounted for.
    stack = await testStack({ sliceSize: 5 });
    shared = await placeOrder("api", 6);
    admin = await startAdminServer(stack);
  });
  afterAll(async () => {
    await admin?.close();
    await stack?.stop();
  });

  it("serves progress, recent orders, and error records newest first, paginated and filtered", async () => {
    // Prepare
    const { orderId, key } = shared;

    // Act
    const progress = await call(`/orders/${orderId}`);
    const recent = await call("/orders");
    const page = await call(`/orders/${orderId}/errors?limit=3`);
    const corrupt = await call(`/orders/${orderId}/errors?class=Corrupt`);

    // Assess
    expect(progress.body).toMatchObject({ total: 10, done: 6, failed: 4, complete: true });
    expect(recent.body.orders.map((o: { orderId: string }) => o.orderId)).toContain(orderId);
    expect(page.body).toMatchObject({ total: 4, offset: 0, limit: 3 });
    expect(page.body.records).toHaveLength(3);
    expect(corrupt.body.records.map((r: { key: string }) => r.key).sort()).toEqual([
      key("broken-truncated.jpg"),
      key("broken-zero-bytes.jpg"),
    ]);
  });

  it("answers 404 for an unknown order and 400 for bad input, saying what was expected", async () => {
    // Prepare
    const { orderId, key } = shared;

    // Act + Assess: an order that does not exist.
    expect((await call("/orders/nope")).status).toBe(404);
    expect((await call("/orders/nope/errors")).status).toBe(404);
    expect((await call("/orders/nope/retry", { method: "POST" })).status).toBe(404);

    // Act + Assess: bad query, path, body and size, each refused with what was expected.
    const bad = await call(`/orders/${orderId}/errors?limit=0&class=Weird`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/limit.*class|class.*limit/s);
    expect((await call("/orders/..%2Fetc")).status).toBe(400);
    expect((await call(`/orders/${orderId}/retry`, { method: "POST", body: "{nope" })).body.error).toMatch(
      /expected JSON/,
    );
    expect(
      (await call(`/orders/${orderId}/retry`, { method: "POST", body: '{"indices":[-1]}' })).status,
    ).toBe(400);
    expect(
      (await call(`/orders/${orderId}/thumbnails/huge?key=${encodeURIComponent(key("photo-00000.jpg"))}`))
        .body.error,
    ).toMatch(/expected one of large, small/);
    expect((await call(`/orders/${orderId}/thumbnails/small`)).status).toBe(400);
  });

  it("refuses anonymous requests and bad tokens", async () => {
    // Act
    const anonymous = await call(`/orders/${shared.orderId}`, { auth: null });
    const badToken = await call(`/orders/${shared.orderId}`, { auth: "Bearer not-the-token-at-all-000" });
    const health = await call("/health", { auth: null });

    // Assess
    expect([anonymous.status, badToken.status, health.status]).toEqual([401, 401, 200]);
  });

  it("dismisses an error: hidden by default, still counted as failed", async () => {
    // Prepare: an order of its own (1 photo, 4 failed images).
    const order = await placeOrder("api-dismiss", 1);
    const { orderId } = order;
    const index = await indexOf(order, "broken-text.jpg");

    // Act
    const dismissed = await call(`/orders/${orderId}/errors/${index}/dismiss`, { method: "POST" });
    const again = await call(`/orders/${orderId}/errors/${index}/dismiss`, { method: "POST" });

    // Assess
    expect([dismissed.status, again.status]).toEqual([200, 200]);
    expect((await call(`/orders/${orderId}/errors`)).body.total).toBe(3);
    expect((await call(`/orders/${orderId}/errors?dismissed=include`)).body.total).toBe(4);
    expect((await call(`/orders/${orderId}`)).body).toMatchObject({ failed: 4, dismissed: 1 });
    expect(
      (await call(`/orders/${orderId}/errors/${await aDoneIndex(order, 5)}/dismiss`, { method: "POST" }))
        .status,
    ).toBe(404);
  });

  it("retries only failed images, and refuses to retry one that is not failed", async () => {
    // Prepare: an order of its own (1 photo, 4 failed images in one slice of 5).
    const order = await placeOrder("api-retry", 1);
    const { orderId } = order;
    const before = sliceReportsOf(orderId).length;
    const notFailed = await aDoneIndex(order, 5);

    // Act
    const refused = await call(`/orders/${orderId}/retry`, {
      method: "POST",
      body: JSON.stringify({ indices: [notFailed] }),
    });
    const accepted = await call(`/orders/${orderId}/retry`, { method: "POST", body: "{}" });

    // Assess: the four are reworked by the workers and fail again; nothing is counted twice.
    expect(refused.status).toBe(409);
    expect(accepted).toMatchObject({ status: 202, body: { images: 4, slices: 1 } });
    await expect.poll(() => sliceReportsOf(orderId).length - before).toBe(1);
    expect((await call(`/orders/${orderId}`)).body).toMatchObject({ total: 5, done: 1, failed: 4 });
    expect((await stack.ledger.completions()).filter((c) => c.orderId === orderId)).toHaveLength(1);
  });

  it("serves a stored thumbnail, and makes a missing one on demand, moving the image to done", async () => {
    // Prepare: an order of its own (1 photo, 4 failed images).
    const { orderId, key } = await placeOrder("api-thumbnails", 1);

    // Act + Assess: a stored one.
    const stored = await call(
      `/orders/${orderId}/thumbnails/small?key=${encodeURIComponent(key("photo-00000.jpg"))}`,
    );
    expect(stored.status).toBe(200);
    expect(stored.headers.get("x-thumbnail-source")).toBe("stored");
    expect(stored.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect((await sharp(stored.body).metadata()).format).toBe("jpeg");

    // Prepare: a failed one, whose original is fixed.
    const [photo] = await samplePhotos(1, { seed: "api-fix", megapixels: 0.3 });
    await stack.emulator.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.emulator.resources.sourceBucket,
        Key: key("missing.jpg"),
        Body: photo!.data,
      }),
    );

    // Act
    const made = await call(
      `/orders/${orderId}/thumbnails/large?key=${encodeURIComponent(key("missing.jpg"))}`,
    );

    // Assess
    expect(made.status).toBe(200);
    expect(made.headers.get("x-thumbnail-source")).toBe("generated");
    const meta = await sharp(made.body).metadata();
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(1024);
    expect((await call(`/orders/${orderId}`)).body).toMatchObject({ done: 2, failed: 3 });
    // The backend hears the order's new counts as an update of the completed order.
    await expect
      .poll(() =>
        stack.orderEvents.events
          .filter((e) => e.orderId === orderId && e.type === "order-thumbnails-updated")
          .map((e) => [e.done, e.failed]),
      )
      .toContainEqual([2, 3]);
    const second = await call(
      `/orders/${orderId}/thumbnails/small?key=${encodeURIComponent(key("missing.jpg"))}`,
    );
    expect(second.headers.get("x-thumbnail-source")).toBe("stored");

    // Act + Assess: a broken one says why, with its class.
    const broken = await call(
      `/orders/${orderId}/thumbnails/small?key=${encodeURIComponent(key("broken-truncated.jpg"))}`,
    );
    expect(broken).toMatchObject({ status: 422, body: { class: "Corrupt" } });
  });

  it("lists the order's stored thumbnails and serves each", async () => {
    // Prepare
    const { orderId } = shared;

    // Act
    const { images, nextCursor, size, sizes } = (await call(`/orders/${orderId}/images?limit=100`)).body;
    const paged = (await call(`/orders/${orderId}/images?size=large&limit=5`)).body;
    const rest = (await call(`/orders/${orderId}/images?size=large&limit=5&cursor=${paged.nextCursor}`)).body;
    const first = await call(`/${images[0].url}`);
    const outside = await call(`/orders/${orderId}/images/small/..%2F..%2Fsecret`);

    // Assess: the six photos' thumbnails, in two pages of large ones too.
    expect(images).toHaveLength(6);
    expect(nextCursor).toBeNull();
    // Without ?size= the smallest; the order's sizes come largest first, for a client to show another.
    expect({ size, sizes }).toEqual({ size: "small", sizes: ["large", "small"] });
    expect([...paged.images, ...rest.images].map((i: { name: string }) => i.name)).toEqual(
      images.map((i: { name: string }) => i.name),
    );
    expect(rest.nextCursor).toBeNull();
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/jpeg");
    expect(outside.status).toBe(400);
  });

  it.each([
    ["GET", "/orders/%"],
    ["GET", "/orders/a%zz/errors"],
    ["GET", "/orders/%E0%A4%A"],
    ["GET", "/orders/{id}/images/small/a%zz.jpg"],
  ])("answers 400, not 500, to %s %s: not valid percent-encoding", async (method, path) => {
    // Act
    const response = await call(path.replace("{id}", shared.orderId), { method });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/is not valid percent-encoding/);
  });

  it.each(["0x3", "3.0", "03", "1e0"])(
    "refuses image index %s to dismiss: plain digits only",
    async (raw) => {
      // Act
      const response = await call(`/orders/${shared.orderId}/errors/${raw}/dismiss`, { method: "POST" });

      // Assess
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(/image index: .*expected a whole number/);
    },
  );

  it("answers 413 naming the limit to a body over 1 MiB, anonymous or not, closing each connection", async () => {
    // Prepare
    const body = JSON.stringify({ indices: [0], padding: "x".repeat(1024 * 1024) });
    const post = (headers: Record<string, string>) =>
      fetch(`${admin.url}/api/orders/${shared.orderId}/retry`, { method: "POST", headers, body });

    // Act
    const authorized = await post({ authorization: `Bearer ${admin.token}` });
    const anonymous = await post({});
    const next = await call(`/orders/${shared.orderId}`);

    // Assess
    expect([authorized.status, anonymous.status]).toEqual([413, 413]);
    expect([authorized.headers.get("connection"), anonymous.headers.get("connection")]).toEqual([
      "close",
      "close",
    ]);
    expect(((await authorized.json()) as { error: string }).error).toMatch(/too large.*1 MiB/);
    expect(next.status).toBe(200);
  });

  it("checks the token before reading any body: an anonymous POST that stalls gets 401 at once", async () => {
    // Act: declares 1000 bytes, sends one, then nothing.
    const answer = await rawExchange(
      admin.url,
      `POST /api/orders/${shared.orderId}/retry HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n{`,
    );

    // Assess
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/^connection: close\r$/im);
  });
});
