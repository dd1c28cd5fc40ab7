// Order review dashboard: orders with live progress, an order's thumbnails, its failed images with
// their class and message, Retry and Dismiss. Plain DOM, no build step, so it can be served from any
// static host. Data is only ever set as text or attributes, never as HTML.

const params = new URLSearchParams(location.search);
const API = (params.get("api") ?? `${location.origin}/api`).replace(/\/$/, "");
const POLL_MS = 1500;

// The local server prints the dashboard URL with `#token=…`; keep it for this tab only.
const hashToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (hashToken) {
  sessionStorage.setItem("thumbs-token", hashToken);
  history.replaceState(null, "", location.pathname + location.search);
}

const app = document.getElementById("app");
const statusLine = document.getElementById("status");
let timer;

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

/** Images need the bearer token too, so they are fetched and shown as blob URLs. */
async function showImage(img, path) {
  try {
    const response = await api(path);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    img.src = URL.createObjectURL(await response.blob());
    img.dataset.loaded = "true";
  } catch {
    img.replaceWith(h("div", { class: "placeholder" }, "no thumbnail"));
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

async function renderOrders() {
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
  app.replaceChildren(
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
}

function errorCard(orderId, record, onChange) {
  const img = h("img", { alt: `thumbnail of ${record.key}` });
  showImage(
    img,
    `/orders/${encodeURIComponent(orderId)}/thumbnails/small?key=${encodeURIComponent(record.key)}`,
  );
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

async function renderOrder(orderId) {
  const id = encodeURIComponent(orderId);
  const summary = h("div", { class: "summary" });
  const errors = h("div", { class: "errors" });
  const grid = h("div", { class: "grid" });
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
    const page = await apiJson(`/orders/${id}/errors?limit=200`);
    errors.replaceChildren(
      ...(page.records.length
        ? page.records.map((r) => errorCard(orderId, r, refresh))
        : [h("p", { class: "empty" }, "No failed images.")]),
    );
    retryAll.hidden = page.records.length === 0;
    const { images } = await apiJson(`/orders/${id}/images?size=small&limit=500`);
    grid.replaceChildren(
      ...images.map((image) => {
        const img = h("img", {
          alt: image.name,
          title: image.name,
          "data-testid": "grid-image",
          loading: "lazy",
        });
        showImage(img, `/${image.url}`);
        return img;
      }),
    );
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
  if (!sessionStorage.getItem("thumbs-token") && !params.has("no-auth")) return askForToken();
  const orderId = new URLSearchParams(location.search).get("order");
  try {
    if (orderId) await renderOrder(orderId);
    else {
      await renderOrders();
      timer = setInterval(() => renderOrders().catch(() => {}), POLL_MS);
    }
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
