// O2X web console: plain JavaScript over the node's own APIs (the same ones the o2x tool uses).
// Every value from the node is put on the page as text (textContent / attributes), never as HTML:
// message bodies and ids are attacker-controlled input.
"use strict";

const main = document.getElementById("main");
let refreshTimer = null;

// ---- helpers -------------------------------------------------------------------------------------------------

/** Builds an element; string children become text nodes (so they are never parsed as HTML). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function token() { return sessionStorage.getItem("o2x-token") || ""; }

/** Calls the node; a Problem Details answer becomes an Error with its title, detail and code. */
async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch(path, { ...options, headers });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    const problem = body && typeof body === "object" ? body : {};
    const error = new Error(`${problem.title || response.status + " " + response.statusText}${problem.detail ? ": " + problem.detail : ""}`
      + (problem.error_code ? ` (${problem.error_code})` : ""));
    error.status = response.status;
    throw error;
  }
  return body;
}

const fmtTime = (value) => value ? new Date(value).toLocaleString() : "—";
const fmt = (value) => value === null || value === undefined || value === "" ? "—" : String(value);
const q = encodeURIComponent;

function table(headers, rows, options = {}) {
  const head = h("tr", {}, headers.map((title) => h("th", { class: options.numeric?.includes(title) ? "num" : null }, title)));
  const body = rows.length
    ? rows.map((row) => h("tr", {}, row.map((cell, i) =>
        h("td", { class: options.numeric?.includes(headers[i]) ? "num" : null }, cell instanceof Node ? cell : fmt(cell)))))
    : [h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, options.empty || "None."))];
  return h("table", { "data-table": options.name || null }, h("thead", {}, head), h("tbody", {}, body));
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v instanceof Node ? v : fmt(v))]));
}

function errorBox(error) { return h("p", { class: "error", role: "alert" }, error.message || String(error)); }

function badge(text, level) { return h("span", { class: "badge " + (level || "") }, text); }

function link(href, text) { return h("a", { href }, text); }

/** An in-page confirmation (with an optional reason) instead of a browser dialog. */
function confirmPanel(question, { reason = false, confirmLabel = "Confirm", onConfirm }) {
  const input = reason ? h("input", { name: "reason", placeholder: "reason (kept for audit)", required: true, size: 40 }) : null;
  const status = h("span", { class: "muted" });
  const panel = h("form", { class: "confirm", "data-confirm": true },
    h("span", {}, question),
    input ? h("label", {}, "Reason", input) : null,
    h("button", { type: "submit", class: "danger" }, confirmLabel),
    h("button", { type: "button", onclick: () => panel.remove() }, "Cancel"),
    status);
  panel.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (input && !input.value.trim()) { status.textContent = "A reason is required."; return; }
    try { await onConfirm(input ? input.value.trim() : null); panel.remove(); } catch (e) { status.replaceChildren(errorBox(e)); }
  });
  return panel;
}

function render(...nodes) { main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false)); }

function every(ms, fn) {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => fn().catch(() => {}), ms);
}

// ---- overview ------------------------------------------------------------------------------------------------

// Seed §7.1 thresholds: depth healthy 0-100, alert > 1000; dequeue rate alert below 50% of enqueue; 0 consumers alert.
function depthLevel(depth) { return depth === null || depth === undefined ? "" : depth > 1000 ? "alert" : depth > 100 ? "warn" : "ok"; }

const SERIES = [
  { name: "received/s", color: "#0969da", value: (p) => p.received },
  { name: "acked/s", color: "#1a7f37", value: (p) => p.processed + p.duplicates },
  { name: "failed/s", color: "#cf222e", value: (p) => p.rejected + p.dead_lettered + p.failed },
];

/** The queue's received, acked and failed per second between sample i-1 and sample i; null when either lacks it. */
function ratesAt(samples, i, queue) {
  const a = samples[i - 1]?.queues[queue], b = samples[i]?.queues[queue];
  if (!a || !b) return null;
  const seconds = Math.max(0.5, (new Date(samples[i].at) - new Date(samples[i - 1].at)) / 1000);
  return SERIES.map((s) => Math.max(0, (s.value(b) - s.value(a)) / seconds));
}

function rates(samples, queue) {
  const [received, acked, failed] = ratesAt(samples, samples.length - 1, queue) || [0, 0, 0];
  return { received, acked, failed };
}

/** A line chart of per-interval rates over the window, plain SVG. */
function chart(queue, samples) {
  const series = SERIES;
  const width = 360, height = 120, pad = 4;
  const points = [];
  for (let i = 1; i < samples.length; i++) {
    const values = ratesAt(samples, i, queue);
    if (values) points.push({ at: new Date(samples[i].at), values });
  }
  const end = samples.length ? new Date(samples[samples.length - 1].at) : new Date();
  const start = new Date(end - 15 * 60 * 1000);
  const peak = Math.max(0, ...points.flatMap((p) => p.values));
  const max = Math.max(1, peak);
  const x = (t) => pad + (width - 2 * pad) * Math.min(1, Math.max(0, (t - start) / (end - start)));
  const y = (v) => height - pad - (height - 2 * pad) * (v / max);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${queue} rates, last 15 minutes, max ${max.toFixed(1)}/s`);
  series.forEach((s, i) => {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", s.color);
    line.setAttribute("stroke-width", "2");
    line.setAttribute("data-series", s.name);
    line.setAttribute("points", points.map((p) => `${x(p.at).toFixed(1)},${y(p.values[i]).toFixed(1)}`).join(" "));
    svg.append(line);
  });
  const total = samples.length ? series[0].value(samples[samples.length - 1].queues[queue] || { received: 0 }) : 0;
  return h("div", { class: "chart", "data-chart": queue, "data-received": total },
    h("h3", {}, queue, " ", h("span", { class: "muted" }, `peak ${peak.toFixed(1)}/s`)),
    svg,
    h("div", { class: "legend" }, series.map((s) => h("span", {}, h("i", { style: `background:${s.color}` }), s.name))));
}

async function overview() {
  const [cluster, queues, history] = await Promise.all([
    api("/api/cluster").catch((e) => e), api("/api/queues"), api("/api/queues/history")]);
  const samples = history.samples.map((s) => ({ at: s.at, queues: Object.fromEntries(s.queues.map((p) => [p.queue, p])) }));
  const clusterSection = cluster instanceof Error
    ? errorBox(cluster)
    : table(["member", "status", "roles", "reachable", "leader"], cluster.members.map((m) => [
        m.address + (m.is_self ? " (this node)" : ""), badge(m.status, m.status === "Up" ? "ok" : "alert"), m.roles.join(", "),
        m.reachable ? badge("yes", "ok") : badge("no", "alert"), m.is_leader ? "leader" : ""]), { name: "members" });
  const rows = queues.map((queue) => {
    const r = rates(samples, queue.queue);
    const c = queue.counters;
    const depth = queue.depth ?? queue.lag;
    const slow = r.received > 0 && r.acked < r.received * 0.5;
    const noConsumers = queue.consumers === 0;
    const breaker = queue.breaker === "Open" ? badge("Open", "alert") : queue.breaker === "HalfOpen" ? badge("HalfOpen", "warn") : badge(queue.breaker, "ok");
    return [
      h("span", { "data-queue": queue.queue }, queue.queue), queue.transport, r.received.toFixed(1),
      h("span", { class: slow ? "alert" : "" }, r.acked.toFixed(1)), h("span", { class: r.failed > 0 ? "warn" : "" }, r.failed.toFixed(1)),
      c.received, c.processed + c.duplicates, c.rejected, c.dead_lettered, c.in_flight,
      depth === null || depth === undefined ? "—" : h("span", { class: depthLevel(depth) }, depth),
      queue.consumers === null || queue.consumers === undefined ? "—" : h("span", { class: noConsumers ? "alert" : "ok" }, queue.consumers),
      breaker];
  });
  render(
    h("h1", {}, "Overview"),
    h("h2", {}, "Cluster"), clusterSection,
    h("h2", {}, "Queues"),
    h("p", { class: "muted" }, "Rates over the last 5 s. Thresholds (seed §7.1): depth > 100 amber, > 1000 red; acked < 50% of received red; no consumers red."),
    table(["queue", "transport", "received/s", "acked/s", "failed/s", "received", "acked", "rejected", "dead-lettered", "in flight", "depth / lag", "consumers", "breaker"],
      rows, { name: "queues", numeric: ["received/s", "acked/s", "failed/s", "received", "acked", "rejected", "dead-lettered", "in flight", "depth / lag", "consumers"] }),
    h("h2", {}, "Last 15 minutes"),
    // Busiest queues first.
    h("div", { class: "charts" }, [...queues].sort((a, b) => b.counters.received - a.counters.received).map((queue) => chart(queue.queue, samples))));
  every(5000, async () => { if (location.hash === "" || location.hash === "#/") await overview(); });
}

// ---- dead letters --------------------------------------------------------------------------------------------

async function deadLetters(params) {
  const queues = await api("/api/queues").catch(() => []);
  const filter = { queue: params.get("queue") || "", error: params.get("error") || "", status: params.get("status") ?? "DEAD", from: params.get("from") || "" };
  const query = new URLSearchParams();
  if (filter.queue) query.set("queue", filter.queue);
  if (filter.error) query.set("error", filter.error);
  if (filter.status) query.set("status", filter.status);
  if (filter.from) query.set("from", new Date(filter.from).toISOString());
  query.set("limit", "200");
  const [page, incidents] = await Promise.all([api("/api/deadletters?" + query), api("/api/deadletters?status=INCIDENT&limit=50")]);

  const form = h("form", { class: "filters", "data-filters": true },
    h("label", {}, "Queue", h("select", { name: "queue" }, h("option", { value: "" }, "(all)"),
      queues.map((x) => h("option", { value: x.queue, selected: x.queue === filter.queue }, x.queue)))),
    h("label", {}, "Error / exception", h("input", { name: "error", value: filter.error, placeholder: "e.g. INVALID_FIELD" })),
    h("label", {}, "Status", h("select", { name: "status" }, ["DEAD", "INCIDENT", "REQUEUING", "REQUEUED", "PURGED", ""].map((s) =>
      h("option", { value: s, selected: s === filter.status }, s || "(all)")))),
    h("label", {}, "Since", h("input", { name: "from", type: "datetime-local", value: filter.from })),
    h("button", { type: "submit", class: "primary" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v || k === "status") next.set(k, v);
    location.hash = "#/dead-letters?" + next;
  });

  const actions = h("div", {});
  const requeueAll = h("button", {
    type: "button", "data-action": "requeue-matching", disabled: page.items.length === 0 || (filter.status && filter.status !== "DEAD"),
    onclick: () => actions.replaceChildren(confirmPanel(`Requeue every DEAD letter matching this filter${filter.queue ? " on " + filter.queue : ""}?`, {
      confirmLabel: "Requeue all",
      onConfirm: async () => {
        const body = new URLSearchParams();
        if (filter.queue) body.set("queue", filter.queue);
        if (filter.error) body.set("error", filter.error);
        if (filter.from) body.set("from", new Date(filter.from).toISOString());
        const result = await api("/api/deadletters/requeue?" + body, { method: "POST" });
        actions.replaceChildren(h("p", { class: "notice" }, `${result.requeued} requeued, ${result.skipped} skipped.`));
      },
    })),
  }, "Requeue all matching…");

  render(
    h("h1", {}, "Dead letters"), form, requeueAll, actions,
    table(["id", "queue", "message id", "error / exception", "attempts", "last failure", "status"], page.items.map((d) => [
      link("#/dead-letters/" + d.id, String(d.id)), d.queue, d.message_id, d.exception_type + ": " + d.exception_message, d.attempts,
      fmtTime(d.last_failure), badge(d.status, d.status === "DEAD" || d.status === "INCIDENT" ? "alert" : "ok")]), { name: "dead-letters", empty: "No dead letters match." }),
    h("h2", {}, "Incidents"),
    h("p", { class: "muted" }, "Dead letters the reprocessor gave up on: they need a person."),
    table(["id", "queue", "message id", "reason", "since"], incidents.items.map((d) => [
      link("#/dead-letters/" + d.id, String(d.id)), d.queue, d.message_id, d.status_reason, fmtTime(d.updated_at)]), { name: "incidents", empty: "No incidents." }));
}

function pretty(body, encoding) {
  if (encoding !== "utf-8") return `(${encoding}) ${body}`;
  try { return JSON.stringify(JSON.parse(body), null, 2); } catch { return body; }
}

async function deadLetter(id) {
  const detail = await api("/api/deadletters/" + q(id));
  const d = detail.dead_letter;
  const actions = h("div", {});
  const canChange = d.status === "DEAD" || d.status === "INCIDENT";
  render(
    h("h1", {}, `Dead letter ${d.id}`), link("#/dead-letters", "← all dead letters"),
    facts([["queue", d.queue], ["message id", d.message_id], ["correlation id", d.correlation_id], ["status", badge(d.status, canChange ? "alert" : "ok")],
      ["status reason", d.status_reason], ["attempts", d.attempts], ["first failure", fmtTime(d.first_failure)], ["last failure", fmtTime(d.last_failure)],
      ["requeued", d.requeue_count + " times"], ["exception", d.exception_type], ["message", d.exception_message], ["body", d.body_bytes + " bytes"]]),
    h("div", {},
      h("button", { type: "button", class: "primary", "data-action": "requeue", disabled: !canChange,
        onclick: () => actions.replaceChildren(confirmPanel(`Put message ${d.message_id} back on ${d.queue}?`, {
          confirmLabel: "Requeue",
          onConfirm: async () => { await api(`/api/deadletters/${q(id)}/requeue`, { method: "POST" }); await deadLetter(id); showNotice("Requeued."); },
        })) }, "Requeue…"), " ",
      h("button", { type: "button", class: "danger", "data-action": "purge", disabled: !canChange,
        onclick: () => actions.replaceChildren(confirmPanel(`Purge message ${d.message_id}? It will not be processed.`, {
          reason: true, confirmLabel: "Purge",
          onConfirm: async (reason) => { await api(`/api/deadletters/${q(id)}?reason=${q(reason)}`, { method: "DELETE" }); await deadLetter(id); showNotice("Purged."); },
        })) }, "Purge…")),
    actions,
    h("h2", {}, "Message"), h("pre", { "data-body": true }, pretty(detail.body, detail.body_encoding)),
    h("h2", {}, "Headers"), table(["header", "value"], Object.entries(detail.headers || {}), { empty: "No headers." }));
}

function showNotice(text) { main.prepend(h("p", { class: "notice", role: "status" }, text)); }

// ---- orders and accounts -------------------------------------------------------------------------------------

function searchForm(value) {
  const input = h("input", { name: "id", value: value || "", size: 40, placeholder: "ORD-…, ACC-… or a correlation id", autofocus: true });
  const form = h("form", { class: "filters", "data-search": true }, h("label", {}, "Order, account or correlation id", input),
    h("button", { type: "submit", class: "primary" }, "Find"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (!id) return;
    location.hash = /^ORD-/i.test(id) ? "#/orders/" + q(id) : /^ACC-/i.test(id) ? "#/accounts/" + q(id) : "#/orders?correlation_id=" + q(id);
  });
  return form;
}

async function orders(params) {
  const correlation = params.get("correlation_id");
  if (!correlation) {
    const stuck = await api("/api/orders/stuck").catch((e) => ({ error: e }));
    render(h("h1", {}, "Orders & accounts"), searchForm(""),
      h("h2", {}, "Stuck provisioning"),
      stuck.error ? errorBox(stuck.error) : h("p", { class: "muted" }, `Orders whose provisioning request was not answered within ${stuck.provisioning_timeout}.`),
      stuck.error ? null : table(["order", "account", "request", "requested", "stuck since"], stuck.items.map((o) => [
        link("#/orders/" + q(o.order_id), o.order_id), link("#/accounts/" + q(o.account_id), o.account_id), o.request_id,
        fmtTime(o.requested_at), fmtTime(o.stuck_at)]), { empty: "No order is stuck." }));
    return;
  }
  const found = await api("/api/orders?correlation_id=" + q(correlation));
  render(h("h1", {}, "Orders & accounts"), searchForm(correlation),
    h("h2", {}, `Orders with correlation id ${correlation}`),
    table(["order", "account"], found.items.map((o) => [link("#/orders/" + q(o.order_id), o.order_id),
      o.account_id ? link("#/accounts/" + q(o.account_id), o.account_id) : "—"]), { empty: "No order has this correlation id." }));
}

const steps = ["RECEIVED", "PROVISIONING", "COMPLETED", "BILLED", "INVOICED"];

function stuckActions(o) {
  if (o.status !== "STUCK") return null;
  const actions = h("div", {});
  const path = `/api/orders/${q(o.order_id)}/provisioning/`;
  return h("div", { "data-stuck": true },
    h("p", { class: "error", role: "alert" }, `Provisioning request ${o.provisioning_request_id} was not answered in time.`),
    h("button", { type: "button", class: "primary", "data-action": "retry-provisioning",
      onclick: () => actions.replaceChildren(confirmPanel(`Send order ${o.order_id}'s provisioning request again, under a new request id?`, {
        confirmLabel: "Retry provisioning",
        onConfirm: async () => { await api(path + "retry", { method: "POST" }); await order(o.order_id); showNotice("Provisioning requested again."); },
      })) }, "Retry provisioning…"), " ",
    h("button", { type: "button", class: "danger", "data-action": "fail-provisioning",
      onclick: () => actions.replaceChildren(confirmPanel(`Fail order ${o.order_id}? The OMS is told it FAILED (PROVISIONING_TIMEOUT).`, {
        reason: true, confirmLabel: "Fail order",
        onConfirm: async (reason) => {
          await api(path + "fail", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reason }) });
          await order(o.order_id); showNotice("Order failed.");
        },
      })) }, "Fail…"),
    actions);
}

async function order(id) {
  const o = await api("/api/orders/" + q(id));
  render(h("h1", {}, `Order ${o.order_id}`), searchForm(o.order_id),
    facts([["status", badge(o.status, o.status === "FAILED" || o.status === "CANCELLED" || o.status === "STUCK" ? "alert" : "ok")], ["account", link("#/accounts/" + q(o.account_id), o.account_id)],
      ["type", o.details.order_type], ["correlation id", o.details.correlation_id], ["source", o.details.source_system],
      ["provisioning request", o.provisioning_request_id], ["billed", o.billed_total !== undefined ? `${o.billed_total} ${o.billed_currency}` : "—"],
      ["invoice", o.invoice_number]]),
    stuckActions(o),
    h("h2", {}, "Timeline"),
    h("ol", { class: "timeline", "data-timeline": true }, o.timeline.map((t) =>
      h("li", { class: steps.includes(t.status) ? "" : "failed", "data-step": t.status }, h("b", {}, t.status), fmtTime(t.at),
        h("div", { class: "muted" }, "message " + t.message_id), t.note ? h("div", {}, t.note) : null))),
    h("h2", {}, "Services"),
    table(["action", "product", "quantity", "monthly", "one-time", "currency"], o.details.services.map((s) => [
      s.action, s.product_code, s.quantity, s.pricing?.monthly_recurring_charge, s.pricing?.one_time_charge, s.pricing?.currency])));
}

async function account(id) {
  const [a, usage] = await Promise.all([api("/api/accounts/" + q(id)), api("/api/usage/accumulators/" + q(id)).catch(() => [])]);
  render(h("h1", {}, `Account ${a.account_id}`), searchForm(a.account_id),
    facts([["opened", fmtTime(a.opened_at)], ["updated", fmtTime(a.updated_at)],
      ["balance", a.balances.length ? a.balances.map((b) => `${b.amount} ${b.currency}`).join(", ") : "0"],
      ["payment method", a.payment_method ? `${a.payment_method.type} (token)` : "—"],
      ["billing address", a.billing_address ? [a.billing_address.street, a.billing_address.city, a.billing_address.country].filter(Boolean).join(", ") : "—"]]),
    h("div", { class: "grid2" },
      h("section", {}, h("h2", {}, "Subscriptions"), table(["subscription", "product", "qty", "monthly", "status", "since"], a.subscriptions.map((s) => [
        s.subscription_id, s.product_code, s.quantity, `${s.monthly_recurring_charge} ${s.currency || ""}`, s.status, fmtTime(s.since)]), { name: "subscriptions" })),
      h("section", {}, h("h2", {}, "Invoices"), table(["invoice", "order / period", "issued", "due", "total", "outstanding", "status", "rev.", "PDF"], a.invoices.map((i) => [
        i.invoice_number, i.period ? i.period : link("#/orders/" + q(i.order_id), i.order_id), fmtTime(i.issued_at), i.due_date, `${i.total} ${i.currency}`, i.outstanding,
        i.status, i.revision, pdfLink(a.account_id, i.invoice_number)]),
        { name: "invoices", numeric: ["total", "outstanding"] }))),
    h("h2", {}, "Charges"), table(["charge", "order", "kind", "product", "qty", "amount", "period"], a.charges.map((c) => [
      c.charge_id, c.order_id, c.kind, c.product_code, c.quantity, `${c.amount} ${c.currency}`, c.period_start ? `${c.period_start} – ${c.period_end}` : "—"]),
      { name: "charges" }),
    h("h2", {}, "Payments, notes and adjustments"), table(["entry", "kind", "invoice", "amount", "reason", "posted", "reversed"], (a.ledger || []).map((e) => [
      e.entry_id, e.kind, e.invoice_number, `${e.amount} ${e.currency}`, e.reason, fmtTime(e.posted_at), e.reversed_at ? fmtTime(e.reversed_at) + " — " + e.reversal_reason : ""]),
      { name: "ledger" }),
    h("h2", {}, "Usage accumulators"), table(["month", "service", "units", "amount", "records"], usage.map((u) => [
      u.month, u.service_type, u.used_units, u.amount, u.records]), { name: "usage", numeric: ["units", "amount", "records"] }));
}

// ---- jobs ----------------------------------------------------------------------------------------------------

function progress(done, failed, total) {
  const width = (n) => total > 0 ? Math.min(100, (100 * n) / total).toFixed(1) + "%" : "0%";
  return h("span", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": done + failed },
    h("div", { style: `width:${width(done)};float:left` }), h("div", { class: "failed", style: `width:${width(failed)};float:left` }));
}

async function jobs() {
  const [bulk, mediation] = await Promise.all([api("/api/bulk?limit=50"), api("/api/mediation?limit=50")]);
  render(h("h1", {}, "Jobs"),
    h("h2", {}, "Bulk jobs"),
    table(["job", "operation", "progress", "done", "succeeded", "failed", "total", "status", "submitted"], bulk.items.map((j) => [
      j.job_id, j.api_name, progress(j.success_count, j.failure_count, j.total_count), j.completed_percent + "%", j.success_count, j.failure_count, j.total_count,
      badge(j.status, j.status === "COMPLETED" ? (j.failure_count ? "warn" : "ok") : ""), fmtTime(j.submitted_at)]),
      { name: "bulk-jobs", empty: "No bulk jobs yet." }),
    h("h2", {}, "Mediation jobs"),
    table(["job", "progress", "rows read", "stored", "rejected", "duplicates", "status", "started"], mediation.items.map((m) => [
      h("span", {}, m.job_id, h("div", { class: "muted" }, `${m.file_name} (${m.vendor_format})`)),
      m.status === "RUNNING" ? h("progress", {}) : progress(m.stored + m.duplicates, m.rejected, Math.max(1, m.rows_read)),
      m.rows_read, m.stored, m.rejected, m.duplicates, badge(m.status, m.status === "FAILED" ? "alert" : "ok"), fmtTime(m.started_at)]),
      { name: "mediation-jobs", empty: "No mediation jobs yet." }));
  every(3000, async () => { if (location.hash.startsWith("#/jobs")) await jobs(); });
}

// ---- billing -------------------------------------------------------------------------------------------------

function runBadge(r) {
  return badge(r.status, r.status === "FAILED" || r.failed > 0 ? "alert" : r.status === "RUNNING" || r.status === "QUEUED" ? "" : r.not_ended > 0 ? "warn" : "ok");
}

function pdfLink(accountId, invoiceNumber) {
  return invoiceNumber ? h("a", { href: `/api/accounts/${q(accountId)}/invoices/${q(invoiceNumber)}/pdf`, "data-pdf": invoiceNumber }, "PDF") : "—";
}

async function billing() {
  // Only the runs table refreshes: re-rendering the form would wipe what the operator is typing.
  const runsTable = h("div", {});
  const refresh = async () => {
    const runs = await api("/api/billing/runs?limit=50");
    runsTable.replaceChildren(table(["run", "period", "account", "trigger", "status", "accounts", "invoiced", "already billed", "nothing to bill", "not ended", "failed", "amount", "started"],
      runs.items.map((r) => [link("#/billing/" + q(r.run_id), r.run_id), r.period, r.account_id || "all", r.trigger,
        r.status === "RUNNING" || r.status === "QUEUED" ? h("span", {}, runBadge(r), " ", h("progress", {})) : runBadge(r), r.accounts, r.invoiced, r.already_billed,
        r.nothing_to_bill, r.not_ended, r.failed, r.amount, fmtTime(r.started_at)]),
      { name: "bill-runs", empty: "No bill runs yet.", numeric: ["accounts", "invoiced", "already billed", "nothing to bill", "not ended", "failed", "amount"] }));
  };
  await refresh();
  const period = h("input", { name: "period", placeholder: "yyyy-MM", pattern: "\\d{4}-\\d{2}", required: true, size: 8 });
  const account = h("input", { name: "account", placeholder: "all accounts", size: 16 });
  const status = h("span", { class: "muted" });
  const form = h("form", { class: "filters", "data-form": "bill-run" },
    h("label", {}, "Period ", period), h("label", {}, "Account ", account), h("button", { type: "submit" }, "Start bill run"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = { period: period.value.trim() };
      if (account.value.trim()) body.account_id = account.value.trim();
      const started = await api("/api/billing/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      location.hash = "#/billing/" + q(started.run_id);
    } catch (e) { status.replaceChildren(errorBox(e)); }
  });
  render(h("h1", {}, "Billing"),
    h("p", { class: "muted" }, "Each run closes every account's cycle of a period into one invoice; running a period again bills nothing twice."),
    form, runsTable);
  every(3000, async () => { if (location.hash === "#/billing") await refresh(); });
}

async function billRun(runId, params) {
  const outcome = params.get("outcome") || "";
  const [r, page] = await Promise.all([api("/api/billing/runs/" + q(runId)),
    api(`/api/billing/runs/${q(runId)}/accounts?limit=500${outcome ? "&outcome=" + q(outcome) : ""}`)]);
  render(h("h1", {}, "Bill run ", r.run_id),
    facts([["period", r.period], ["account", r.account_id || "all"], ["trigger", r.trigger], ["status", runBadge(r)], ["accounts", r.accounts],
      ["invoiced", r.invoiced], ["already billed", r.already_billed], ["nothing to bill", r.nothing_to_bill], ["cycle not ended", r.not_ended],
      ["failed", r.failed], ["amount", r.amount], ["started", fmtTime(r.started_at)], ["finished", fmtTime(r.finished_at)], ["error", r.error],
      ["usage of unknown accounts", r.unknown_usage ? `${r.unknown_usage} rated records of ${r.unknown_accounts} account ids no account has (not billed)` : null]]),
    h("p", {}, ["", "INVOICED", "FAILED", "NOT_ENDED", "ALREADY_BILLED", "NOTHING_TO_BILL"].map((o) =>
      h("span", {}, link(`#/billing/${q(runId)}${o ? "?outcome=" + o : ""}`, o || "all"), " "))),
    table(["account", "outcome", "invoice", "amount", "PDF", "code", "reason"], page.items.map((a) => [
      link("#/accounts/" + q(a.account_id), a.account_id), badge(a.outcome, a.outcome === "FAILED" ? "alert" : a.outcome === "INVOICED" ? "ok" : ""),
      a.invoice_number, a.amount, pdfLink(a.account_id, a.invoice_number), a.error_code, a.reason]),
      { name: "bill-run-accounts", empty: "No accounts (yet).", numeric: ["amount"] }),
    page.next_after ? h("p", { class: "muted" }, "First 500 shown; the API pages through the rest.") : null);
  if (r.status === "RUNNING" || r.status === "QUEUED") every(2000, async () => { if (location.hash.startsWith("#/billing/")) await billRun(runId, params); });
}

// ---- routing -------------------------------------------------------------------------------------------------

async function route() {
  clearInterval(refreshTimer);
  const [path, search] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const page = parts[0] || "overview";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.page === (page === "accounts" ? "orders" : page));
  try {
    if (page === "overview") await overview();
    else if (page === "dead-letters" && parts[1]) await deadLetter(parts[1]);
    else if (page === "dead-letters") await deadLetters(params);
    else if (page === "orders" && parts[1]) await order(parts[1]);
    else if (page === "orders") await orders(params);
    else if (page === "accounts" && parts[1]) await account(parts[1]);
    else if (page === "jobs") await jobs();
    else if (page === "billing" && parts[1]) await billRun(parts[1], params);
    else if (page === "billing") await billing();
    else render(h("h1", {}, "Not found"), h("p", {}, "No such page."));
  } catch (error) {
    render(h("h1", {}, "Something went wrong"), errorBox(error),
      error.status === 401 ? h("p", {}, "This node needs the admin token: enter it under “Admin token” above.") : null);
  }
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("o2x-token", document.getElementById("token").value);
  document.getElementById("token").value = "";
  route();
});
document.getElementById("node").textContent = location.host;
window.addEventListener("hashchange", route);
route();
