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
import { type Browser, chromium, type Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { CHROMIUM_ARGS, findChromium } from "./helpers/browser.js";
import { testStack, uniqueOrderId } from "./helpers/stack.js";
import { startThrottleProxy, type ThrottleProxy } from "./helpers/throttle-proxy.js";

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
  /** The order the proxy test looks at: no test changes it. The Retry test places its own. */
  let sharedOrderId: string;

  /**
   * Plans an order of 8 photos and 4 broken images (one of them missing), and resolves once it is
   * resized and accounted for; returns its id and its missing image's key.
   */
  const placeOrder = async (label: string): Promise<{ orderId: string; missingKey: string }> => {
    const orderId = uniqueOrderId(label);
    const prefix = `orders/${orderId}/`;
    const missingKey = `${prefix}missing.jpg`;
    const { s3 } = stack.emulator.clients;
    const bucket = stack.emulator.resources.sourceBucket;
    const keys = await uploadOrder(s3, bucket, prefix, [
      ...(await samplePhotos(8, { seed: label, megapixels: 0.2 })),
      ...(await brokenSamples()),
    ]);
    await stack.emitOrderCompleted({ orderId, bucket, keys: [...keys, missingKey] });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 60_000 });
    return { orderId, missingKey };
  };

  beforeAll(async () => {
    // Prepare
    stack = await testStack({ sliceSize: 4 });
    ({ orderId: sharedOrderId } = await placeOrder("dash"));
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
    // Prepare: an order of its own, since Retry changes it.
    const { orderId, missingKey } = await placeOrder("dash-retry");
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    onTestFinished(() => page.close());
    const card = page.locator(`[data-testid=error-card]`, { hasText: "missing.jpg" });
    // Every request the page makes for a thumbnail, to check that polling never fetches one twice:
    // through the API, or straight from the thumbnails bucket by presigned URL (compared without the
    // signature, which every listing renews).
    const thumbnailRequests: string[] = [];
    const bucketPath = `/${stack.emulator.resources.thumbnailBucket}/`;
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (/\/api\/.*\/(images|thumbnails)\//.test(url.pathname)) thumbnailRequests.push(r.url());
      else if (url.pathname.startsWith(bucketPath)) thumbnailRequests.push(`${url.origin}${url.pathname}`);
    });

    // 1. Act + Assess: open an order with failures and see them (thumbnails and errors listed 3 at a
    //    time: paging must reach them all).
    await page.goto(`${admin.url}/dashboard/?order=${orderId}&page-size=3#token=${admin.token}`);
    await expect.poll(() => page.getByTestId("failed-count").textContent()).toBe("4");
    await expect.poll(() => page.getByTestId("error-card").count()).toBe(4);
    await expect.poll(() => card.locator(".class").textContent()).toBe("NotFound");
    await expect.poll(() => page.getByTestId("grid-image").count()).toBe(8);

    // 2. Prepare: fix the failed source object, as the customer's re-upload would.
    const [photo] = await samplePhotos(1, { seed: "dash-fix", megapixels: 0.2 });
    await stack.emulator.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.emulator.resources.sourceBucket,
        Key: missingKey,
        Body: photo!.data,
      }),
    );

    // 3. Act: click Retry on its card.
    await card.getByTestId("retry-button").click();

    // 4. Assess: the failed count drops, the card goes, and its thumbnail appears in the grid.
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
    // Stored thumbnails came straight from the bucket by presigned URL, none through the API.
    expect(thumbnailRequests.filter((u) => u.includes(bucketPath))).toHaveLength(9);
    expect(thumbnailRequests.filter((u) => u.includes("/api/") && u.includes("/images/"))).toEqual([]);

    // 5. Act + Assess: a thumbnail opens in its largest size (these originals are smaller than 1024 px,
    //    so the large size is the original's own, still twice the small one).
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
    onTestFinished(() => open.close());
    const proxy: Server = createSigningProxy({
      api: new URL(`${open.url}/api/`),
      region: "eu-west-1",
      credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-secret" }),
      token: "proxy-token-for-this-test",
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    onTestFinished(() => page.close());

    // Act: start from the orders list and open the order by its id, as an admin looking one up would
    //      (an unknown id first).
    const port = (proxy.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/dashboard/#token=proxy-token-for-this-test`);
    await page.getByTestId("open-order").fill("no-such-order");
    await page.getByTestId("open-order").press("Enter");
    await expect.poll(() => page.locator("#app").textContent()).toMatch(/Could not load: .*no-such-order/);
    await page.goBack();
    await page.getByTestId("open-order").fill(sharedOrderId);
    await page.getByTestId("open-order").press("Enter");

    // Assess: progress, error records and thumbnails all arrive through the proxy.
    await expect.poll(() => page.getByTestId("failed-count").textContent()).toBe("4");
    await expect.poll(() => page.getByTestId("error-card").count()).toBe(4);
    await expect.poll(() => page.locator("[data-testid=grid-image][data-loaded=true]").count()).toBe(8);
  });
});

/** What a tile in the viewport shows, read in the page (a string: this package has no DOM types). */
type TileView = { alt: string; state: string; reason: string; width: number; testid: string };
const tilesInView = (page: Page): Promise<TileView[]> =>
  page.evaluate(`[...document.querySelectorAll(".tile")]
    .filter((tile) => {
      const r = tile.getBoundingClientRect();
      return r.width > 0 && r.bottom > 0 && r.top < window.innerHeight;
    })
    .map((tile) => {
      const img = tile.querySelector("img");
      return {
        alt: img.alt,
        state: tile.dataset.state,
        reason: tile.querySelector(".reason").textContent,
        width: img.naturalWidth,
        testid: img.dataset.testid,
      };
    })`) as Promise<TileView[]>;

/** Waits until every tile in the viewport has settled (loaded or failed), then returns them. */
async function settledTilesInView(page: Page): Promise<TileView[]> {
  await expect
    .poll(
      async () => {
        const tiles = await tilesInView(page);
        return tiles.length > 0 && tiles.every((t) => t.state === "loaded" || t.state === "failed");
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBe(true);
  return tilesInView(page);
}

/** Every settled tile is either shown (its pixels decoded) or failed with a reason in words. */
function expectShownOrExplained(tiles: TileView[]): void {
  for (const t of tiles) {
    if (t.state === "loaded") expect(t.width, t.alt).toBe(32);
    else expect(t.reason, t.alt).toMatch(/^failed: \S.{5,}/);
  }
}

/** Camera-style names, four cameras' worth, every one a distinct key. */
const cameraName = (i: number): string =>
  [
    `DSC${String(i).padStart(5, "0")}.JPG`,
    `IMG_${String(i).padStart(4, "0")}.JPG`,
    `PXL_20260101_${String(100_000 + i)}.jpg`,
    `GOPR${String(i).padStart(4, "0")}.JPG`,
  ][i % 4]!;

describe.runIf(executablePath)("a 1,000-photo order behind API Gateway-style throttling", () => {
  let stack: LocalStack;
  let admin: AdminServer;
  let browser: Browser;
  const orderId = uniqueOrderId("big");
  const prefix = `orders/${orderId}/`;
  const PHOTOS = 1000;
  const MISSING = 6;
  const open = async (proxy: ThrottleProxy): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${proxy.url}/dashboard/?order=${orderId}#token=${admin.token}`);
    await expect.poll(() => page.getByTestId("grid-image").count(), { timeout: 30_000 }).toBe(PHOTOS);
    await expect.poll(() => page.getByTestId("error-card").count()).toBe(MISSING);
    return page;
  };

  beforeAll(async () => {
    // Prepare: 1,000 tiny JPEGs (32×32, four colours made once, each uploaded 250 times under its own
    // camera-style name) and 6 keys with no object behind them, through the real pipeline.
    stack = await testStack({ sliceSize: 50 });
    const { s3 } = stack.emulator.clients;
    const bucket = stack.emulator.resources.sourceBucket;
    const tiny = await Promise.all(
      ["#c0392b", "#2980b9", "#27ae60", "#f39c12"].map((background) =>
        sharp({ create: { width: 32, height: 32, channels: 3, background } })
          .jpeg()
          .toBuffer(),
      ),
    );
    const keys = await uploadOrder(
      s3,
      bucket,
      prefix,
      Array.from({ length: PHOTOS }, (_, i) => ({ name: cameraName(i), data: tiny[i % 4]! })),
    );
    const missing = Array.from({ length: MISSING }, (_, i) => `${prefix}MISSING_${i}.jpg`);
    await stack.emitOrderCompleted({ orderId, bucket, keys: [...keys, ...missing] });
    await awaitOrder(stack.ledger, orderId, { timeoutMs: 120_000 });
    admin = await startAdminServer(stack);
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    await mkdir(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await stack?.stop();
  });

  it("loads stored thumbnails straight from S3, so only the on-demand ones meet the throttle", async () => {
    // Prepare: a stingy stage (5 requests a second, burst 5) in front of the admin API.
    const proxy = await startThrottleProxy({ target: admin.url, rate: 5, burst: 5 });
    let page: Page | undefined;
    try {
      // Act: open the order, then scroll to its last thumbnails.
      page = await open(proxy);
      const top = await settledTilesInView(page);
      await page.evaluate("window.scrollTo(0, document.body.scrollHeight)");
      const bottom = await settledTilesInView(page);

      // Assess: every stored thumbnail in view is shown; the failed images' cards say why.
      const grid = [...top, ...bottom].filter((t) => t.testid === "grid-image");
      expect(grid.length).toBeGreaterThan(40);
      expect(grid.filter((t) => t.state !== "loaded")).toEqual([]);
      expectShownOrExplained([...top, ...bottom]);
      const cards = top.filter((t) => t.testid === "card-image");
      expect(cards).toHaveLength(MISSING);
      for (const card of cards) expect(card.reason).toMatch(/^failed: NotFound: /);
      // No API call for any stored thumbnail; one or more per failed image's card (made on demand).
      const calls = [...proxy.stats.thumbnailCalls.keys()];
      expect(calls.filter((path) => path.includes("/images/"))).toEqual([]);
      expect(calls.filter((path) => /\/thumbnails\/small\?index=\d+$/.test(path))).toHaveLength(MISSING);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-1000-presigned.png` });
    } finally {
      await page?.close();
      await proxy.close();
    }
  });

  it("through the API, one call per tile: queued, retried past 429s, and a tile that never gets through says so", async () => {
    // Prepare: S3 refuses every presigned URL (as it would expired ones), so each tile falls back to
    // the API: one call per thumbnail, as before presigned URLs. The stage allows 20 a second with a
    // burst of 10, and one thumbnail is throttled every time.
    const neverThrough = /\/images\/small\/dsc00008-/i;
    const proxy = await startThrottleProxy({
      target: admin.url,
      rate: 20,
      burst: 10,
      alwaysThrottle: neverThrough,
      refusePresignedUrls: true,
    });
    let page: Page | undefined;
    try {
      // Act: open the order, then scroll to its last thumbnails.
      page = await open(proxy);
      const top = await settledTilesInView(page);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-1000-throttled.png` });
      await page.evaluate("window.scrollTo(0, document.body.scrollHeight)");
      const bottom = await settledTilesInView(page);

      // Assess: every tile in view is shown or says why not; only the never-through one failed.
      expectShownOrExplained([...top, ...bottom]);
      const failedTiles = [...top, ...bottom].filter(
        (t) => t.testid === "grid-image" && t.state !== "loaded",
      );
      expect(failedTiles.map((t) => t.alt)).toEqual([expect.stringMatching(/^DSC00008-/i)]);
      expect(failedTiles[0]!.reason).toMatch(/^failed: HTTP 429: Too Many Requests \(after 6 attempts\)$/);
      // The throttle really bit, the queue got past it, and kept to six thumbnails in flight.
      const attempts = [...proxy.stats.thumbnailCalls].filter(([path]) => neverThrough.test(path));
      expect(attempts.map(([, n]) => n)).toEqual([6]);
      expect(proxy.stats.throttled - 6).toBeGreaterThan(0);
      expect(proxy.stats.refused).toBeGreaterThan(40);
      expect(proxy.stats.maxThumbnailsInFlight).toBeLessThanOrEqual(6);
    } finally {
      await page?.close();
      await proxy.close();
    }
  });
});
