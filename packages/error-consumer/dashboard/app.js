// Order review dashboard: orders with live progress, an order's thumbnails, its failed images with
// their class and message, Retry and Dismiss. Plain DOM, no build step, so it can be served from any
// static host. Data is only ever set as text or attributes, never as HTML.

const params = new URLSearchParams(location.search);
const API = (params.get("api") ?? `${location.origin}/api`).replace(/\/$/, "");
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

async function api(path, options = {}) {
  const token = sessionStorage.getItem("thumbs-token");
  const response = await fetch(`${API}${path}`, {
    ...options,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body ? { "content-type": "application/json" } : {}),
    },
  });
  if (response.status === 401) {
    sessionStorage.removeItem("thumbs-token");
    askForToken();
    throw new Error("not authorised");
  }
  return response;
}

async function apiJson(path, options) {
  const response = await api(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

/**
 * Images need the bearer token too, so they are fetched and shown as blob URLs. One that cannot be
 * fetched is replaced by a placeholder, or, where the element must stay (grid tiles, the viewer),
 * marked `data-missing` and shown by its alt text.
 */
async function showImage(img, path, { keep = false } = {}) {
  try {
    const response = await api(path);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    img.src = URL.createObjectURL(await response.blob());
    img.dataset.loaded = "true";
  } catch {
    if (keep) img.dataset.missing = "true";
    else img.replaceWith(h("div", { class: "placeholder" }, "no thumbnail"));
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
  timer = setInterval(() => refresh().catch(() => {}), POLL_MS);
}

function errorCard(orderId, record, onChange, lazy) {
  const img = h("img", {
    alt: `thumbnail of ${record.key}`,
    "data-src": `/orders/${encodeURIComponent(orderId)}/thumbnails/small?index=${record.index}`,
  });
  lazy.load(img);
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
    img,
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

/** Every stored thumbnail of the order's smallest size, all pages, with the order's size names. */
async function listImages(id) {
  let page = await apiJson(`/orders/${id}/images?limit=${PAGE_SIZE}`);
  const images = [...page.images];
  while (page.nextCursor) {
    const cursor = encodeURIComponent(page.nextCursor);
    page = await apiJson(`/orders/${id}/images?size=${page.size}&limit=${PAGE_SIZE}&cursor=${cursor}`);
    images.push(...page.images);
  }
  return { images, size: page.size, largest: page.sizes[0] };
}

/**
 * Fetches an image (its `data-src`) only when it scrolls near the viewport: an order of 1,000+ photos,
 * or of hundreds of failures, must not download everything at once. `keep`: see showImage.
 */
function lazyImages() {
  const nearby = new IntersectionObserver(
    (entries) => {
      for (const entry of entries.filter((e) => e.isIntersecting)) {
        nearby.unobserve(entry.target);
        showImage(entry.target, entry.target.dataset.src, { keep: entry.target.dataset.keep === "true" });
      }
    },
    { rootMargin: "600px" },
  );
  return { load: (img) => nearby.observe(img), stop: () => nearby.disconnect() };
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

/**
 * The order's thumbnails. A tile, once made, is kept across refreshes (thumbnail names are stable), so
 * polling lists names but never downloads a thumbnail twice.
 */
function thumbnailGrid(viewer, lazy) {
  const grid = h("div", { class: "grid" });
  const tiles = new Map();
  const show = ({ images, size, largest }) => {
    for (const image of images) {
      if (tiles.has(image.name)) continue;
      const img = h("img", {
        alt: image.name,
        title: image.name,
        "data-testid": "grid-image",
        "data-src": `/${image.url}`,
        "data-keep": "true",
        onclick: () => viewer(image.name, `/${image.url.replace(`/images/${size}/`, `/images/${largest}/`)}`),
      });
      tiles.set(image.name, img);
      lazy.load(img);
    }
    grid.replaceChildren(...images.map((image) => tiles.get(image.name)));
  };
  return { grid, show };
}

/** The largest size of one image, over the page; Escape or a click closes it. */
function largeViewer() {
  const img = h("img", { "data-testid": "large-image" });
  const caption = h("p", {});
  const dialog = h("dialog", { class: "viewer", onclick: () => dialog.close() }, img, caption);
  dialog.addEventListener("close", () => {
    if (img.src) URL.revokeObjectURL(img.src);
    img.removeAttribute("src");
    delete img.dataset.loaded;
    delete img.dataset.missing;
  });
  const open = (name, path) => {
    caption.textContent = name;
    dialog.showModal();
    showImage(img, path, { keep: true });
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
  const thumbnails = thumbnailGrid(viewer.open, lazy);
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
    last = signature;
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
  };
  await refresh();
  timer = setInterval(() => refresh().catch((e) => (statusLine.textContent = e.message)), POLL_MS);
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
  if (!sessionStorage.getItem("thumbs-token") && !params.has("no-auth")) return askForToken();
  const orderId = new URLSearchParams(location.search).get("order");
  try {
    if (orderId) await renderOrder(orderId);
    else await renderOrders();
  } catch (error) {
    if (error.message !== "not authorised")
      app.replaceChildren(h("p", { class: "empty" }, `Could not load: ${error.message}`));
  }
}

document.querySelector("[data-nav]").addEventListener("click", (event) => {
  event.preventDefault();
  navigate(null);
});
addEventListener("popstate", route);
route();
