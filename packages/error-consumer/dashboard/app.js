// Order review dashboard: orders with live progress, an order's thumbnails, its failed images with
// their class and message, Retry and Dismiss. Plain DOM, no build step, so it can be served from any
// static host. Data is only ever set as text or attributes, never as HTML.

import { createRequestQueue, QueueCleared } from "./request-queue.js";

const params = new URLSearchParams(location.search);
// Only ever this page's own origin: the bearer token goes with every API call, so no URL parameter may
// point the calls elsewhere. Against a deployed stack the signing proxy (`pnpm dashboard`) serves both.
const API = `${location.origin}/api`;
const POLL_MS = 1500;
// Thumbnails listed per request (the API's maximum); `?page-size=` is for tests and debugging.
const PAGE_SIZE = Number(params.get("page-size")) || 1000;

// The local server prints the dashboard URL with `#token=…`; keep it for this tab only.
const hashToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (hashToken) {
  sessionStorage.setItem("thumbs-token", hashToken);
  history.replaceState(null, "", location.pathname + location.search);
}

const app = document.getElementById("app");
const statusLine = document.getElementById("status");
let timer;
let stopLazy = () => {};
// Every API call goes through it: thumbnails six at a time, and 429/503 retried with backoff.
const queue = createRequestQueue();

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false)
      el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child);
  return el;
}

/** One attempt at an API call, with the bearer token; the queue decides when and how often. */
function send(path, options) {
  const token = sessionStorage.getItem("thumbs-token");
  return fetch(`${API}${path}`, {
    ...options,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body ? { "content-type": "application/json" } : {}),
    },
  });
}

/**
 * An API call through the queue: `{ response, attempts }`. Thumbnails take one of its slots; JSON
 * calls (`unlimited`) do not wait for one, but are retried and paused alike.
 */
async function api(path, options = {}, { unlimited = false } = {}) {
  const result = await queue.run(() => send(path, options), { unlimited });
  if (result.response.status === 401) {
    sessionStorage.removeItem("thumbs-token");
    askForToken();
    throw new Error("not authorised");
  }
  return result;
}

async function apiJson(path, options) {
  const { response } = await api(path, options, { unlimited: true });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? body.message ?? `HTTP ${response.status}`);
  return body;
}

/** Why a thumbnail request finally failed, in a few words: the API's class and message when it sent them. */
async function failureReason(response, attempts) {
  const body = await response.json().catch(() => ({}));
  const what = body.error ?? body.message ?? response.statusText ?? "";
  const lead = body.class ?? `HTTP ${response.status}`;
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  return `${lead}${what ? `: ${what}` : ""}${tries}`;
}

/**
 * A thumbnail's place on the page: the image and, below it, its state. `data-state` is "waiting" (not
 * yet near the viewport), "loading", "loaded" or "failed"; a failed one says why, in text, so no tile
 * is ever silently blank. Clicking a failed one tries it again.
 */
function thumbTile(attrs, onOpen) {
  const img = h("img", { referrerpolicy: "no-referrer", ...attrs });
  const reason = h("span", { class: "reason", "data-testid": "tile-reason" });
  const tile = h("div", { class: "tile", "data-state": "waiting" }, img, reason);
  const state = (next, why = "") => {
    tile.dataset.state = next;
    reason.textContent = next === "failed" ? `failed: ${why}` : next === "loading" ? "loading…" : "";
    if (next === "failed") img.dataset.failed = why;
    else delete img.dataset.failed;
    if (next === "loaded") img.dataset.loaded = "true";
    else delete img.dataset.loaded;
    tile.title = next === "failed" ? `${attrs.alt}: failed: ${why} (click to try again)` : (attrs.alt ?? "");
  };
  tile.addEventListener("click", () => {
    if (tile.dataset.state === "failed") tile.retry?.();
    else if (tile.dataset.state === "loaded") onOpen?.();
  });
  return { tile, img, state };
}

/** Shows `src` in `img`: true once it loaded, false if the browser could not load it. */
function loadSrc(img, src) {
  return new Promise((resolve) => {
    img.onload = () => resolve(true);
    img.onerror = () => resolve(false);
    img.src = src;
  });
}

/**
 * Fetches an API image (it needs the bearer token, so it is shown as a blob URL) through the queue
 * into `img`, and reports the outcome through `state`.
 */
async function showApiImage(img, path, state) {
  state("loading");
  try {
    const { response, attempts } = await api(path);
    if (!response.ok) return state("failed", await failureReason(response, attempts));
    const shown = await loadSrc(img, URL.createObjectURL(await response.blob()));
    state(shown ? "loaded" : "failed", shown ? "" : "the image data could not be shown");
  } catch (error) {
    if (error instanceof QueueCleared || error.message === "not authorised") return;
    state("failed", error.message || "network error");
  }
}

function askForToken() {
  clearInterval(timer);
  const form = document.getElementById("token-form").content.firstElementChild.cloneNode(true);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("thumbs-token", new FormData(form).get("token"));
    route();
  });
  app.replaceChildren(form);
}

const percent = (o) => (o.total === 0 ? 100 : Math.round(((o.done + o.failed) / o.total) * 100));
const badge = (status) => h("span", { class: `badge ${status}` }, status.replaceAll("_", " "));

/**
 * Recent orders, refreshed every poll, under a box that opens any order by id (older ones drop out of
 * the list). Only the list is redrawn, so typing in the box is never interrupted.
 */
async function renderOrders() {
  const list = h("div", {});
  const open = h(
    "form",
    {
      class: "open-order",
      onsubmit: (event) => {
        event.preventDefault();
        const id = new FormData(open).get("order").trim();
        if (id) navigate(id);
      },
    },
    h(
      "label",
      {},
      "Order id ",
      h("input", { name: "order", "data-testid": "open-order", autocomplete: "off", required: true }),
    ),
    h("button", { type: "submit" }, "Open"),
  );
  app.replaceChildren(open, list);
  const refresh = async () => {
    const { orders } = await apiJson("/orders?limit=50");
    const rows = orders.map((o) =>
      h(
        "tr",
        { "data-order": o.orderId, onclick: () => navigate(o.orderId) },
        h("td", {}, o.orderId),
        h("td", {}, badge(o.status)),
        h("td", {}, h("progress", { max: 100, value: percent(o) })),
        h("td", {}, `${o.done} done`),
        h("td", {}, `${o.failed} failed`),
        h("td", {}, `${o.total} images`),
        h("td", {}, new Date(o.createdAt).toLocaleString()),
      ),
    );
    list.replaceChildren(
      orders.length === 0
        ? h("p", { class: "empty" }, "No orders yet.")
        : h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Order", "Status", "Progress", "", "", "", "Created"].map((t) => h("th", {}, t)),
              ),
            ),
            h("tbody", {}, rows),
          ),
    );
  };
  await refresh();
  timer = poll(refresh, () => {});
}

function errorCard(orderId, record, onChange, lazy) {
  // Made on demand when missing (the planned index names the image), so a fixed original shows here.
  const path = `/orders/${encodeURIComponent(orderId)}/thumbnails/small?index=${record.index}`;
  const thumb = thumbTile({ alt: `thumbnail of ${record.key}`, "data-testid": "card-image" });
  thumb.tile.retry = () => showApiImage(thumb.img, path, thumb.state);
  lazy.load(thumb.tile, thumb.tile.retry);
  const act = (label, path, body) =>
    h(
      "button",
      {
        "data-testid": label === "Retry" ? "retry-button" : "dismiss-button",
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            await apiJson(path, { method: "POST", body });
            statusLine.textContent = `${label}: ${record.key}`;
          } catch (error) {
            statusLine.textContent = `${label} failed: ${error.message}`;
          }
          onChange();
        },
      },
      label,
    );
  return h(
    "div",
    { class: "error-card", "data-testid": "error-card", "data-index": String(record.index) },
    thumb.tile,
    h(
      "div",
      {},
      h("div", { class: "key" }, record.key),
      h("div", { class: "class" }, record.class),
      h("div", {}, record.message),
      h("div", { class: "advice" }, record.advice),
      h(
        "div",
        {},
        act(
          "Retry",
          `/orders/${encodeURIComponent(orderId)}/retry`,
          JSON.stringify({ indices: [record.index] }),
        ),
        " ",
        act("Dismiss", `/orders/${encodeURIComponent(orderId)}/errors/${record.index}/dismiss`),
      ),
    ),
  );
}

/**
 * Every stored thumbnail of the order's smallest size, all pages, with the order's size names and
 * when the page's presigned URLs expire (the earliest, in ms; undefined when the API gave none).
 */
async function listImages(id) {
  let page = await apiJson(`/orders/${id}/images?limit=${PAGE_SIZE}`);
  const images = [...page.images];
  let expiresAt = page.expiresAt ? Date.parse(page.expiresAt) : undefined;
  while (page.nextCursor) {
    const cursor = encodeURIComponent(page.nextCursor);
    page = await apiJson(`/orders/${id}/images?size=${page.size}&limit=${PAGE_SIZE}&cursor=${cursor}`);
    images.push(...page.images);
    if (page.expiresAt) expiresAt = Math.min(expiresAt ?? Infinity, Date.parse(page.expiresAt));
  }
  return { images, size: page.size, largest: page.sizes[0], expiresAt };
}

/**
 * Starts an element's image (`load(element, start)`) only when it scrolls near the viewport: an order
 * of 1,000+ photos, or of hundreds of failures, must not download everything at once.
 */
function lazyImages() {
  const starts = new WeakMap();
  const nearby = new IntersectionObserver(
    (entries) => {
      for (const entry of entries.filter((e) => e.isIntersecting)) {
        nearby.unobserve(entry.target);
        starts.get(entry.target)?.();
      }
    },
    { rootMargin: "600px" },
  );
  return {
    load: (element, start) => {
      starts.set(element, start);
      nearby.observe(element);
    },
    stop: () => nearby.disconnect(),
  };
}

/** Every error record of the order, all pages. */
async function listErrors(id) {
  const limit = Math.min(PAGE_SIZE, 500);
  const records = [];
  for (let offset = 0; ; offset += limit) {
    const page = await apiJson(`/orders/${id}/errors?limit=${limit}&offset=${offset}`);
    records.push(...page.records);
    if (page.records.length === 0 || records.length >= page.total) return records;
  }
}

/** Presigned URLs are refreshed this long before they expire rather than risk an expired one. */
const URL_MARGIN_MS = 60_000;

/**
 * The order's thumbnails. A tile, once made, is kept across refreshes (thumbnail names are stable), so
 * polling lists names but never downloads a thumbnail twice.
 *
 * Stored thumbnails load straight from S3 by the presigned URL the listing gave (no API call per tile);
 * a URL near its expiry is refreshed by listing again first (once for all tiles). A tile whose S3 load
 * fails, or that has no presigned URL, is fetched through the API instead, in the queue.
 */
function thumbnailGrid(viewer, lazy, relist) {
  const grid = h("div", { class: "grid" });
  const tiles = new Map();
  let urls = new Map();
  let expiresAt;
  let refreshing;

  const remember = (listing) => {
    urls = new Map(listing.images.filter((i) => i.presignedUrl).map((i) => [i.name, i.presignedUrl]));
    expiresAt = listing.expiresAt;
  };
  /** A presigned URL for `name` that will not expire while it loads, or undefined. */
  const presigned = async (name) => {
    if (!urls.has(name)) return undefined;
    if (expiresAt !== undefined && Date.now() > expiresAt - URL_MARGIN_MS) {
      refreshing ??= relist()
        .then(remember)
        .catch(() => {})
        .finally(() => (refreshing = undefined));
      await refreshing;
      if (expiresAt !== undefined && Date.now() > expiresAt - URL_MARGIN_MS) return undefined;
    }
    return urls.get(name);
  };

  const show = (listing) => {
    const { images, size, largest } = listing;
    remember(listing);
    for (const image of images) {
      if (tiles.has(image.name)) continue;
      const large = `/${image.url.replace(`/images/${size}/`, `/images/${largest}/`)}`;
      const thumb = thumbTile({ alt: image.name, "data-testid": "grid-image" }, () =>
        viewer(image.name, large),
      );
      thumb.tile.retry = async () => {
        thumb.state("loading");
        const src = await presigned(image.name);
        if (src && (await loadSrc(thumb.img, src))) return thumb.state("loaded");
        await showApiImage(thumb.img, `/${image.url}`, thumb.state);
      };
      tiles.set(image.name, thumb.tile);
      lazy.load(thumb.tile, thumb.tile.retry);
    }
    grid.replaceChildren(...images.map((image) => tiles.get(image.name)));
  };
  return { grid, show };
}

/** The largest size of one image, over the page; Escape or a click closes it. */
function largeViewer() {
  const img = h("img", { "data-testid": "large-image" });
  const caption = h("p", {});
  const reason = h("p", { class: "reason", "data-testid": "large-reason" });
  const dialog = h("dialog", { class: "viewer", onclick: () => dialog.close() }, img, caption, reason);
  const state = (next, why = "") => {
    reason.textContent = next === "failed" ? `failed: ${why}` : next === "loading" ? "loading…" : "";
    if (next === "loaded") img.dataset.loaded = "true";
    if (next === "failed") img.dataset.failed = why;
  };
  dialog.addEventListener("close", () => {
    if (img.src) URL.revokeObjectURL(img.src);
    img.removeAttribute("src");
    delete img.dataset.loaded;
    delete img.dataset.failed;
    reason.textContent = "";
  });
  const open = (name, path) => {
    caption.textContent = name;
    dialog.showModal();
    showApiImage(img, path, state);
  };
  return { dialog, open };
}

async function renderOrder(orderId) {
  const id = encodeURIComponent(orderId);
  const summary = h("div", { class: "summary" });
  const errors = h("div", { class: "errors" });
  const viewer = largeViewer();
  const lazy = lazyImages();
  stopLazy = lazy.stop;
  const thumbnails = thumbnailGrid(viewer.open, lazy, () => listImages(id));
  const grid = thumbnails.grid;
  const cards = new Map();
  const retryAll = h(
    "button",
    {
      class: "primary",
      "data-testid": "retry-all",
      onclick: async () => {
        retryAll.disabled = true;
        try {
          const r = await apiJson(`/orders/${id}/retry`, { method: "POST", body: "{}" });
          statusLine.textContent = `Retrying ${r.images} image(s)`;
        } catch (error) {
          statusLine.textContent = `Retry failed: ${error.message}`;
        }
        retryAll.disabled = false;
      },
    },
    "Retry all failed",
  );
  app.replaceChildren(
    h("h2", {}, `Order ${orderId}`),
    summary,
    h("section", {}, h("h3", {}, "Failed images ", retryAll), errors),
    h("section", {}, h("h3", {}, "Thumbnails"), grid),
    viewer.dialog,
  );

  let last = "";
  const refresh = async () => {
    const p = await apiJson(`/orders/${id}`);
    summary.replaceChildren(
      badge(p.status),
      h("progress", { max: 100, value: percent(p) }),
      h("div", {}, h("span", { class: "count", "data-testid": "done-count" }, String(p.done)), " done"),
      h(
        "div",
        { class: "failed" },
        h("span", { class: "count", "data-testid": "failed-count" }, String(p.failed)),
        " failed",
      ),
      h("div", {}, h("span", { class: "count" }, String(p.total)), " images"),
    );
    const signature = `${p.done}/${p.failed}/${p.dismissed}`;
    if (signature === last) return;
    const records = await listErrors(id);
    // A card is rebuilt only when its record changed, so its thumbnail is not fetched again each poll.
    const card = (r) => {
      const version = JSON.stringify(r);
      if (cards.get(r.index)?.version !== version) {
        cards.set(r.index, { version, element: errorCard(orderId, r, refresh, lazy) });
      }
      return cards.get(r.index).element;
    };
    errors.replaceChildren(
      ...(records.length ? records.map(card) : [h("p", { class: "empty" }, "No failed images.")]),
    );
    retryAll.hidden = records.length === 0;
    thumbnails.show(await listImages(id));
    // Only now: a poll that failed half-way is done again by the next one.
    last = signature;
  };
  await refresh();
  timer = poll(refresh, (e) => (statusLine.textContent = e.message));
}

/**
 * Calls `refresh` every POLL_MS, but never while the last call is still going: under throttling a
 * call can take seconds of retries, and overlapping polls would only add to the load.
 */
function poll(refresh, onError) {
  let busy = false;
  return setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      await refresh();
    } catch (error) {
      if (!(error instanceof QueueCleared)) onError(error);
    } finally {
      busy = false;
    }
  }, POLL_MS);
}

function navigate(orderId) {
  const next = new URLSearchParams(location.search);
  if (orderId) next.set("order", orderId);
  else next.delete("order");
  history.pushState(null, "", `?${next}`);
  route();
}

async function route() {
  clearInterval(timer);
  stopLazy();
  // Thumbnails the last page still had queued are not fetched for this one.
  queue.clear();
  if (!sessionStorage.getItem("thumbs-token") && !params.has("no-auth")) return askForToken();
  const orderId = new URLSearchParams(location.search).get("order");
  try {
    if (orderId) await renderOrder(orderId);
    else await renderOrders();
  } catch (error) {
    // Cleared: the admin navigated on while this page was still loading.
    if (error.message !== "not authorised" && !(error instanceof QueueCleared))
      app.replaceChildren(h("p", { class: "empty" }, `Could not load: ${error.message}`));
  }
}

document.querySelector("[data-nav]").addEventListener("click", (event) => {
  event.preventDefault();
  navigate(null);
});
addEventListener("popstate", route);
route();
