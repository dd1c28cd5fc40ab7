import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createSigningProxy } from "@thumbs/error-consumer";
import {
  type AdminServer,
  awaitOrder,
  brokenSamples,
  type LocalStack,
  samplePhotos,
  startAdminServer,
  uploadOrder,
} from "@thumbs/local";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, findChromium } from "./helpers/browser.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const executablePath = findChromium();
if (!executablePath) {
  console.warn(
    "dashboard test: no Chromium found; install it with `apt-get install chromium` (or set CHROMIUM_PATH).",
  );
}

describe.runIf(executablePath)("the admin dashboard in headless Chromium", () => {
  let stack: LocalStack;
  let admin: AdminServer;
  let browser: Browser;
  const orderId = uniqueOrderId("dash");
  const prefix = `orders/${orderId}/`;
  const missingKey = `${prefix}missing.jpg`;

  beforeAll(async () => {
    // Prepare: an order of 8 photos and 4 broken images (one of them missing), resized and accounted.
    stack = await testStack({ sliceSize: 4 });
    const { s3 } = stack.emulator.clients;
    const bucket = stack.emulator.resources.sourceBucket;
    const keys = await uploadOrder(s3, bucket, prefix, [
      ...(await samplePhotos(8, { seed: "dash", megapixels: 0.2 })),
      ...(await brokenSamples()),
    ]);
    await stack.emitOrderCompleted({ orderId, bucket, keys: [...keys, missingKey] });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });
    admin = await startAdminServer(stack);
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    await mkdir(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await stack?.stop();
  });

  it("shows the failures, and after the original is fixed and Retry clicked, the thumbnail", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const card = page.locator(`[data-testid=error-card]`, { hasText: "missing.jpg" });
    // Every request the page makes for a thumbnail, to check that polling never fetches one twice.
    const thumbnailRequests: string[] = [];
    page.on("request", (r) => {
      if (/\/images\/|\/thumbnails\//.test(r.url())) thumbnailRequests.push(r.url());
    });

    // 1. Open an order with failures and see them (thumbnails and errors listed 3 at a time: paging
    //    must reach them all).
    await page.goto(`${admin.url}/dashboard/?order=${orderId}&page-size=3#token=${admin.token}`);
    await expect.poll(() => page.getByTestId("failed-count").textContent()).toBe("4");
    await expect.poll(() => page.getByTestId("error-card").count()).toBe(4);
    await expect.poll(() => card.locator(".class").textContent()).toBe("NotFound");
    await expect.poll(() => page.getByTestId("grid-image").count()).toBe(8);

    // 2. Fix the failed source object, as the customer's re-upload would.
    const [photo] = await samplePhotos(1, { seed: "dash-fix", megapixels: 0.2 });
    await stack.emulator.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.emulator.resources.sourceBucket,
        Key: missingKey,
        Body: photo!.data,
      }),
    );

    // 3. Click Retry on its card.
    await card.getByTestId("retry-button").click();

    // 4. The failed count drops, the card goes, and its thumbnail appears in the grid.
    await expect.poll(() => page.getByTestId("failed-count").textContent(), { timeout: 30_000 }).toBe("3");
    await expect.poll(() => card.count()).toBe(0);
    await expect.poll(() => page.getByTestId("grid-image").count()).toBe(9);
    await expect
      .poll(() => page.locator("[data-testid=grid-image][data-loaded=true][alt^=missing-]").count())
      .toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-after-retry.png`, fullPage: true });
    expect(await stack.ledger.getProgress(orderId)).toMatchObject({ total: 12, done: 9, failed: 3 });
    expect(thumbnailRequests.length).toBeGreaterThanOrEqual(9 + 4);
    expect(thumbnailRequests.length - new Set(thumbnailRequests).size).toBe(0);

    // 5. A thumbnail opens in its largest size (these originals are smaller than 1024 px, so the
    //    large size is the original's own, still twice the small one).
    await page.getByTestId("grid-image").first().click();
    const large = page.getByTestId("large-image");
    await expect.poll(() => large.getAttribute("data-loaded")).toBe("true");
    // Long sides, read in the page (a string: this package compiles without the DOM's types).
    const [largeSide, smallSide] = (await page.evaluate(
      `["large-image", "grid-image"].map((id) => {
        const img = document.querySelector("[data-testid=" + id + "]");
        return Math.max(img.naturalWidth, img.naturalHeight);
      })`,
    )) as number[];
    expect(smallSide).toBe(256);
    expect(largeSide).toBeGreaterThan(2 * smallSide! - 10);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-large-view.png` });
    await page.keyboard.press("Escape");
    await expect.poll(() => large.isVisible()).toBe(false);
  });

  it("works the same on AWS, through the signing proxy (`pnpm dashboard`)", async () => {
    // Prepare: the real admin API with no token of its own, as behind API Gateway's IAM auth, and the
    // proxy in front of it (it signs with SigV4, which the local API ignores).
    const open = await startAdminServer(stack, { token: false });
    const proxy: Server = createSigningProxy({
      api: new URL(`${open.url}/api/`),
      region: "eu-west-1",
      credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-secret" }),
      token: "proxy-token-for-this-test",
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    try {
      // Act: start from the orders list and open the order by its id, as an admin looking one up would
      //      (an unknown id first).
      const port = (proxy.address() as AddressInfo).port;
      await page.goto(`http://127.0.0.1:${port}/dashboard/#token=proxy-token-for-this-test`);
      await page.getByTestId("open-order").fill("no-such-order");
      await page.getByTestId("open-order").press("Enter");
      await expect.poll(() => page.locator("#app").textContent()).toMatch(/Could not load: .*no-such-order/);
      await page.goBack();
      await page.getByTestId("open-order").fill(orderId);
      await page.getByTestId("open-order").press("Enter");

      // Assess: progress, error records and thumbnails all arrive through the proxy.
      await expect.poll(() => page.getByTestId("failed-count").textContent()).toMatch(/^[34]$/);
      await expect.poll(() => page.getByTestId("error-card").count()).toBeGreaterThanOrEqual(3);
      await expect
        .poll(() => page.locator("[data-testid=grid-image][data-loaded=true]").count())
        .toBeGreaterThanOrEqual(8);
    } finally {
      await page.close();
      await new Promise((resolve) => proxy.close(resolve));
      await open.close();
    }
  });
});
