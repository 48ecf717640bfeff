// The Frontdoor web client: one ES module, no build step, no dependencies.
//
// Every call goes to this page's own origin, the edge: /auth/token to sign in,
// /api/web/* (the web BFF) for the screens. The edge answers every request with
// an X-Request-Id and every error as problem+json; both are shown to the user.

const CURRENCY = "EUR";
const PAGE_SIZE = 10;
const TOKEN_STORAGE_KEY = "frontdoor.session";
// The dashboard sections that can be missing when a service is down.
const SECTION_LABELS = { recent_orders: "Recent orders", stats: "Order statistics" };

// A demo catalogue: the orders service takes names and prices from the client as
// they are. A real shop would have a catalogue service and price orders there.
const CATALOGUE = [
  { sku: "CF-0250", name: "Single-origin coffee 250 g", unit_price_minor: 1190 },
  { sku: "MG-2001", name: "Espresso cup set", unit_price_minor: 2450 },
  { sku: "NB-0050", name: "Dotted notebook A5", unit_price_minor: 1450 },
  { sku: "LM-0700", name: "Desk lamp", unit_price_minor: 5990 },
];

const $ = (selector) => document.querySelector(selector);

// ---------------------------------------------------------------------------
// The session.
//
// The access token is kept in sessionStorage, not only in a variable, so that a
// reload keeps you signed in: it lives in this tab only and is gone when the tab
// closes. Never localStorage, where it would outlive the tab. Any script running
// on this page could read it either way, which is why the page loads no script
// but its own (see the Content-Security-Policy in index.html).

const session = {
  token: null,
  expiresAt: 0,

  restore() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? "null");
      if (saved && saved.expiresAt > Date.now()) {
        this.token = saved.token;
        this.expiresAt = saved.expiresAt;
      }
    } catch {
      // A damaged entry is the same as none.
    }
    return this.token !== null;
  },

  start(token, expiresInSeconds) {
    this.token = token;
    this.expiresAt = Date.now() + expiresInSeconds * 1000;
    sessionStorage.setItem(
      TOKEN_STORAGE_KEY,
      JSON.stringify({ token: this.token, expiresAt: this.expiresAt }),
    );
  },

  // Tokens are short-lived and there is nothing to revoke on the server:
  // signing out is forgetting the token.
  end() {
    this.token = null;
    this.expiresAt = 0;
    sessionStorage.removeItem(TOKEN_STORAGE_KEY);
  },
};

// ---------------------------------------------------------------------------
// Talking to the edge.

/** An error answer from the edge, a BFF or a service: an RFC 9457 problem document. */
class ProblemError extends Error {
  constructor(response, problem) {
    const title = problem?.title ?? response.statusText ?? "Request failed";
    super(title);
    this.status = response.status;
    this.title = title;
    this.detail = problem?.detail ?? "";
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.requestId = problem?.request_id ?? response.headers.get("X-Request-Id") ?? "";
  }
}

async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (session.token) init.headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // A network failure rejects here with a TypeError; handleError tells it apart.
  const response = await fetch(path, init);
  showRequestId(response.headers.get("X-Request-Id"), response.headers.get("X-Dev-Timeline"));
  const payload = await readJson(response);
  if (!response.ok) throw new ProblemError(response, payload);
  return { payload, response };
}

async function readJson(response) {
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function handleError(error) {
  if (error instanceof ProblemError) {
    if (error.status === 401 && session.token) {
      // The token expired (or the keys rotated past it): back to the sign-in form.
      signOut();
    }
    showProblem(error);
  } else if (error instanceof TypeError) {
    showProblem({
      title: "Frontdoor could not be reached",
      detail: "Check your connection and try again.",
    });
  } else {
    showProblem({ title: "Something went wrong", detail: String(error) });
    console.error(error);
  }
}

// ---------------------------------------------------------------------------
// Formatting. Money is an integer number of minor units, never a float on the wire.

const moneyFormats = new Map();

function formatMoney(amountMinor, currency) {
  if (!moneyFormats.has(currency)) {
    moneyFormats.set(currency, new Intl.NumberFormat(undefined, { style: "currency", currency }));
  }
  const format = moneyFormats.get(currency);
  // EUR has 2 minor digits, JPY none: ask Intl instead of assuming 100.
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amountMinor / 10 ** digits);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function formatDate(isoString) {
  const date = new Date(isoString);
  return Number.isNaN(date.getTime()) ? isoString : dateFormat.format(date);
}

const shortId = (id) => id.slice(0, 8);
const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

// ---------------------------------------------------------------------------
// Building DOM. Text always goes in as text (never innerHTML), so data from the
// server cannot inject markup.

function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function statusBadge(status) {
  return h("span", { class: `badge badge--${status}`, "data-testid": "order-status" }, status);
}

function showProblem({ title, detail, errors = [], requestId = "" }) {
  const alert = h(
    "div",
    { class: "alert", "data-testid": "alert" },
    h("p", { class: "alert__title" }, title),
    detail ? h("p", {}, detail) : null,
    errors.length
      ? h(
          "ul",
          { class: "alert__errors" },
          errors.map((error) => h("li", {}, h("code", {}, error.field || "body"), ` ${error.message}`)),
        )
      : null,
    requestId
      ? h("p", { class: "alert__meta" }, "request id: ", h("code", { "data-testid": "alert-request-id" }, requestId))
      : null,
    h("button", { type: "button", class: "alert__close", "aria-label": "Dismiss", onclick: () => alert.remove() }, "×"),
  );
  $("#alerts").replaceChildren(alert);
}

function showNotice(text) {
  $("#notices").replaceChildren(h("p", { class: "notice" }, text));
}

function clearMessages() {
  $("#alerts").replaceChildren();
  $("#notices").replaceChildren();
}

/** Disables `button` while `action` runs, so a double click is one request. */
async function whileBusy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------
// Signing in and out.

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const fields = new FormData(form);
  clearMessages();
  await whileBusy(form.querySelector("button[type=submit]"), async () => {
    try {
      const { payload } = await request("POST", "/auth/token", {
        body: { username: fields.get("username"), password: fields.get("password") },
      });
      session.start(payload.access_token, payload.expires_in);
      form.reset();
      await enterDashboard();
    } catch (error) {
      handleError(error);
      $("#signin-password").select();
    }
  });
}

function signOut() {
  session.end();
  pendingOrder = null;
  ordersList.generation += 1; // drop any list page still in flight
  $("#dashboard-view").hidden = true;
  $("#session").hidden = true;
  $("#signin-view").hidden = false;
  for (const id of ["#profile-name", "#profile-email", "#session-name"]) $(id).textContent = "";
  for (const id of ["#stats", "#recent-orders", "#orders-list"]) $(id).replaceChildren();
  for (const id of ["#orders-more", "#orders-empty", "#orders-failed"]) $(id).hidden = true;
  ordersList.status = "";
  $("#orders-filter").value = "";
  $("#signin-username").focus();
}

async function enterDashboard() {
  $("#signin-view").hidden = true;
  $("#dashboard-view").hidden = false;
  $("#session").hidden = false;
  try {
    await refresh();
  } catch (error) {
    handleError(error);
  }
}

/** Both screens at once: after any change the dashboard and the list must agree. */
async function refresh() {
  await Promise.all([loadDashboard(), loadOrders({ reset: true })]);
}

// ---------------------------------------------------------------------------
// The dashboard: the BFF's one call per screen. A section whose service is down
// arrives as null and is named in "degraded" (and the X-Degraded header); it is
// shown as unavailable, never as an empty list that would look like "no orders".

async function loadDashboard() {
  const { payload, response } = await request("GET", "/api/web/dashboard");
  if (!session.token) return; // signed out while the request was in flight
  const header = (response.headers.get("X-Degraded") ?? "").split(",").map((name) => name.trim());
  const degraded = new Set([...(payload.degraded ?? []), ...header].filter(Boolean));

  $("#profile-name").textContent = payload.profile.display_name;
  $("#profile-email").textContent = payload.profile.email;
  $("#session-name").textContent = payload.profile.display_name;

  renderSection("#stats", "stats", payload.stats, degraded, renderStats);
  renderSection("#recent-orders", "recent_orders", payload.recent_orders, degraded, renderRecentOrders);
}

function renderSection(selector, name, value, degraded, render) {
  const unavailable = value === null || value === undefined || degraded.has(name);
  $(selector).replaceChildren(
    unavailable
      ? h(
          "p",
          { class: "degraded", "data-testid": `degraded-${name}` },
          `${SECTION_LABELS[name]} are unavailable right now. The rest of the page works; try again in a moment.`,
        )
      : render(value),
  );
}

function renderStats(stats) {
  const counts = stats.by_status ?? {};
  const entry = (label, value, testid) =>
    h("div", { class: "stat" }, h("dt", {}, label), h("dd", { "data-testid": testid }, String(value ?? 0)));
  return h(
    "dl",
    { class: "stats" },
    entry("Orders", stats.order_count, "stat-total"),
    entry("Placed", counts.placed, "stat-placed"),
    entry("Shipped", counts.shipped, "stat-shipped"),
    entry("Cancelled", counts.cancelled, "stat-cancelled"),
  );
}

function renderRecentOrders(orders) {
  if (orders.length === 0) return h("p", { class: "muted" }, "No orders yet.");
  return h(
    "ol",
    { class: "recent-list" },
    orders.map((order) =>
      h(
        "li",
        { class: "recent", "data-testid": "recent-order", "data-order-id": order.id },
        h("time", { datetime: order.created_at }, formatDate(order.created_at)),
        h("span", { class: "recent__items" }, plural(order.item_count, "item")),
        h("span", { class: "amount" }, formatMoney(order.total.amount_minor, order.total.currency)),
        statusBadge(order.status),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------
// The orders list: pages of PAGE_SIZE, filtered by status, "More" follows next_cursor.

const ordersList = { status: "", cursor: null, generation: 0 };

async function loadOrders({ reset }) {
  // A response to an older request (say, before the filter changed) is dropped.
  const generation = reset ? ++ordersList.generation : ordersList.generation;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (ordersList.status) params.set("status", ordersList.status);
  if (!reset && ordersList.cursor) params.set("cursor", ordersList.cursor);

  const list = $("#orders-list");
  list.setAttribute("aria-busy", "true");
  try {
    const { payload } = await request("GET", `/api/web/orders?${params}`);
    if (generation !== ordersList.generation) return;
    if (reset) list.replaceChildren();
    list.append(...payload.items.map(orderRow));
    ordersList.cursor = payload.next_cursor;
    $("#orders-more").hidden = !payload.next_cursor;
    $("#orders-empty").hidden = list.children.length > 0;
    $("#orders-failed").hidden = true;
  } catch (error) {
    if (reset && generation === ordersList.generation) {
      // No list is better than a stale one (say, for the previous filter).
      list.replaceChildren();
      $("#orders-more").hidden = true;
      $("#orders-empty").hidden = true;
      $("#orders-failed").hidden = false;
    }
    throw error;
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

function orderRow(order) {
  const label = `#${shortId(order.id)}`;
  return h(
    "li",
    { class: "order-row", "data-testid": "order-row", "data-order-id": order.id, "data-status": order.status },
    h(
      "div",
      { class: "order-row__what" },
      h("span", { class: "order-row__id", title: order.id }, label),
      h("time", { datetime: order.created_at }, formatDate(order.created_at)),
    ),
    h("span", { class: "order-row__items" }, plural(order.item_count, "item")),
    h("span", { class: "amount" }, formatMoney(order.total_minor, order.currency)),
    statusBadge(order.status),
    order.status === "placed"
      ? h(
          "button",
          {
            type: "button",
            class: "button button--small button--danger",
            "data-testid": "cancel-order",
            "aria-label": `Cancel order ${label}`,
            onclick: (event) => cancelOrder(order.id, event.currentTarget),
          },
          "Cancel",
        )
      : h("span", { class: "order-row__spacer", "aria-hidden": "true" }),
  );
}

async function cancelOrder(orderId, button) {
  clearMessages();
  await whileBusy(button, async () => {
    try {
      await request("POST", `/api/web/orders/${encodeURIComponent(orderId)}/cancel`);
      showNotice(`Order #${shortId(orderId)} cancelled.`);
      await refresh();
    } catch (error) {
      handleError(error);
      // A 409 means it shipped in the meantime: show the list as it is now.
      if (error instanceof ProblemError && error.status === 409) await refresh().catch(handleError);
    }
  });
}

// ---------------------------------------------------------------------------
// Placing an order.
//
// One Idempotency-Key per order the user means to place. If the request fails
// without a clear answer (network error, 502/504) the order may or may not
// exist; pressing "Place order" again with the same basket reuses the key, so
// the orders service creates it at most once. A changed basket is a new order
// with a new key; a created order clears the key.

let pendingOrder = null; // { key, body } while an order is not known to be created

function renderCatalogue() {
  $("#catalogue").replaceChildren(
    ...CATALOGUE.map((product) => {
      const id = `quantity-${product.sku}`;
      return h(
        "li",
        { class: "product" },
        h(
          "label",
          { for: id, class: "product__label" },
          h("span", { class: "product__name" }, product.name),
          h("span", { class: "product__price" }, formatMoney(product.unit_price_minor, CURRENCY)),
        ),
        h("input", {
          id,
          name: product.sku,
          type: "number",
          inputmode: "numeric",
          min: 0,
          max: 99,
          step: 1,
          value: 0,
          class: "product__quantity",
          "data-testid": id,
        }),
      );
    }),
  );
  updateBasketTotal();
}

/** The basket as order items, or null if a quantity is not a whole number in 0..99. */
function readBasket() {
  const items = [];
  for (const product of CATALOGUE) {
    const input = $(`#quantity-${product.sku}`);
    const quantity = Number(input.value || "0");
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > 99) return null;
    if (quantity > 0) items.push({ sku: product.sku, name: product.name, quantity, unit_price_minor: product.unit_price_minor });
  }
  return items;
}

function updateBasketTotal() {
  const items = readBasket() ?? [];
  const total = items.reduce((sum, item) => sum + item.quantity * item.unit_price_minor, 0);
  $("#new-order-total").textContent = formatMoney(total, CURRENCY);
}

async function placeOrder(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearMessages();
  const items = readBasket();
  if (items === null || items.length === 0) {
    showProblem({
      title: items === null ? "Check the quantities" : "The basket is empty",
      detail: "Enter a whole number from 0 to 99 for each product, at least one above 0.",
    });
    return;
  }
  const body = { currency: CURRENCY, items };
  const bodyText = JSON.stringify(body);
  if (pendingOrder?.body !== bodyText) pendingOrder = { key: crypto.randomUUID(), body: bodyText };
  const { key } = pendingOrder;

  await whileBusy($("#create-order"), async () => {
    try {
      const { payload, response } = await request("POST", "/api/web/orders", {
        body,
        headers: { "Idempotency-Key": key },
      });
      pendingOrder = null;
      form.reset();
      updateBasketTotal();
      const replayed = response.headers.get("Idempotent-Replayed") === "true";
      showNotice(`Order #${shortId(payload.id)} ${replayed ? "was already placed" : "placed"}.`);
      await refresh();
    } catch (error) {
      handleError(error);
    }
  });
}

// ---------------------------------------------------------------------------
// The request id in the footer. Where the edge has its dev timeline (the dev
// stack only), it says so in an X-Dev-Timeline header, and the id links to that
// request's spans across every process.

function showRequestId(requestId, timeline) {
  if (!requestId) return;
  const footer = $("#request-id");
  if (!timeline?.startsWith("/")) {
    footer.textContent = requestId;
    return;
  }
  const link = h(
    "a",
    {
      href: `${timeline}/${encodeURIComponent(requestId)}`,
      target: "_blank",
      rel: "noopener",
      title: "This request across the edge, the BFF and the services",
      "data-testid": "request-id-link",
    },
    requestId,
  );
  footer.replaceChildren(link);
}

// ---------------------------------------------------------------------------
// Wiring.

function start() {
  renderCatalogue();
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => {
    clearMessages();
    signOut();
    showNotice("Signed out.");
  });
  $("#new-order-form").addEventListener("submit", placeOrder);
  $("#new-order-form").addEventListener("input", updateBasketTotal);
  $("#orders-filter").addEventListener("change", (event) => {
    ordersList.status = event.target.value;
    loadOrders({ reset: true }).catch(handleError);
  });
  $("#orders-retry").addEventListener("click", (event) =>
    whileBusy(event.currentTarget, () => {
      clearMessages();
      return loadOrders({ reset: true }).catch(handleError);
    }),
  );
  $("#orders-more").addEventListener("click", (event) =>
    whileBusy(event.currentTarget, () => loadOrders({ reset: false }).catch(handleError)),
  );

  if (session.restore()) enterDashboard();
}

start();
