// The management console: every gateway, one gateway's detail, the server's own numbers.
// Other console modules (event list, dispatch) plug in without editing this file: they get
// a section of their own in console.html and listen for "pps:gateway-selected" (detail:
// {id}) and "pps:refreshed" (detail: {gateways, serverDown}) on document.
import { duration, el, getJson, setupLook } from "./common.js";
import { ControlPanel } from "./control.js";
import { gatewayDetail } from "./console-detail.js";
import { degradedBadge, transportCell } from "./transport.js";

setupLook();
const REFRESH_MS = 5000;
const RETRY_MS = 2000; // while the server does not answer
const tbody = document.querySelector("#gateways tbody");
const detail = document.getElementById("detail");
const serverStats = document.getElementById("server-stats");
const banner = document.getElementById("banner");
let selected = new URLSearchParams(location.search).get("gw") || "";
let lastList = []; // the newest /api/gateways answer (a stale gateway's detail is a 503)
let downSince = null; // epoch s of the first failed refresh, while the server is down
let timer = null;
const control = new ControlPanel(document.getElementById("control"), () => showDetail(selected));

const LABELS = ["Gateway", "State", "Grid", "Transport", "Age", "Firmware", "Polls", "Failures", "Last error"];

function cell(index, ...children) {
  return el("td", { "data-label": LABELS[index] }, ...children);
}

function stateCell(g) {
  const text = !g.online ? "offline" : g.stale ? "stale" : "online";
  const parts = [el("span", { class: g.online && !g.stale ? "state-ok" : "state-bad" }, text)];
  if (g.problem) parts.push(" · ", el("span", { class: "problem" }, g.problem.replaceAll("_", " ")));
  const badge = degradedBadge(g);
  if (badge) parts.push(" ", badge);
  if (g.hint) parts.push(el("span", { class: "hint" }, g.hint));
  return cell(1, ...parts);
}

const FOLD_AT = 80; // characters of an error shown before "more"

function errorCell(text) {
  if (!text) return cell(8, "–");
  if (text.length <= FOLD_AT) return el("td", { class: "error", "data-label": LABELS[8] }, text);
  return el("td", { class: "error", "data-label": LABELS[8] },
    el("details", null, el("summary", null, `${text.slice(0, FOLD_AT)}…`), el("span", null, text)));
}

function gridText(data) {
  if (!data || !data.grid_status) return "–";
  return data.grid_status === "UP" ? "connected" : el("span", { class: "state-bad" }, "off grid");
}

function row(g, data, counts) {
  const pick = el("button", { type: "button", class: "pick", "aria-pressed": g.id === selected ? "true" : "false", onclick: () => select(g.id) },
    el("strong", null, g.name || g.id));
  // The button is for the keyboard and screen readers; a click anywhere on the row picks too.
  const onclick = (event) => { if (!event.target.closest("button, summary, a")) select(g.id); };
  return el("tr", { "data-id": g.id, class: g.id === selected ? "selected" : null, onclick },
    cell(0, pick, el("br"), el("span", { class: "note" }, g.id)),
    stateCell(g),
    cell(2, gridText(data)),
    cell(3, ...transportCell(g)),
    cell(4, el("span", { class: "age", "data-age": g.age_seconds ?? "" }, duration(g.age_seconds))),
    cell(5, data && data.firmware_version ? data.firmware_version : "–"),
    cell(6, counts.polls ?? "–"),
    cell(7, counts.failures ?? "–"),
    errorCell(g.last_error));
}

async function refresh() {
  clearTimeout(timer);
  try {
    const [list, stats] = await Promise.all([getJson("api/gateways"), getJson("stats")]);
    if (!list.ok) throw new Error(`HTTP ${list.status}`);
    serverBack();
    lastList = list.body.gateways;
    const counts = stats.ok ? stats.body.gateways || {} : {};
    const details = await Promise.all(lastList.map((g) => getJson(`api/gateways/${encodeURIComponent(g.id)}`)));
    if (!selected && lastList.length) selected = lastList[0].id;
    tbody.replaceChildren(...lastList.map((g, i) => row(g, details[i].body && details[i].body.data, counts[g.id] || {})));
    if (stats.ok) showServer(stats.body);
    if (selected) {
      showDetail(selected);
      control.show(selected, lastList.find((g) => g.id === selected));
    }
    timer = setTimeout(refresh, REFRESH_MS);
  } catch {
    serverDown();
    timer = setTimeout(refresh, RETRY_MS);
  }
  document.dispatchEvent(new CustomEvent("pps:refreshed", { detail: { gateways: lastList, serverDown: downSince !== null } }));
}

/** The server did not answer: say so at once, keep saying for how long, grey what is old. */
function serverDown() {
  if (downSince === null) downSince = Date.now() / 1000;
  document.body.classList.add("server-down");
  for (const state of tbody.querySelectorAll("td[data-label='State']")) {
    state.replaceChildren(el("span", { class: "state-bad" }, "unknown"), " · server not answering");
  }
  control.setOffline(true, "the server is not answering");
  showDown();
}

function showDown() {
  if (downSince === null) return;
  const since = new Date(downSince * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  banner.hidden = false;
  banner.textContent = `Cannot reach the server since ${since} (${duration(Date.now() / 1000 - downSince)}): what is shown below is from then.`;
}

function serverBack() {
  downSince = null;
  document.body.classList.remove("server-down");
  banner.hidden = true;
  banner.textContent = "";
}

function select(id) {
  selected = id;
  for (const r of tbody.rows) {
    r.classList.toggle("selected", r.dataset.id === id);
    r.querySelector("button.pick")?.setAttribute("aria-pressed", r.dataset.id === id ? "true" : "false");
  }
  const url = new URL(location.href);
  url.searchParams.set("gw", id);
  history.replaceState(null, "", url.href);
  showDetail(id);
  control.show(id, lastList.find((g) => g.id === id));
  document.dispatchEvent(new CustomEvent("pps:gateway-selected", { detail: { id } }));
}

function showServer(s) {
  const server = s.server || {};
  const rows = [
    ["pypowerwall", s.pypowerwall],
    ["Uptime", s.uptime],
    ["Requests", s.gets],
    ["Errors", s.errors],
    ["WebSocket clients", server.websocket_clients ?? "–"],
    ["Memory (max RSS)", s.mem ? `${Math.round(s.mem / 1024)} MB` : "–"],
  ];
  serverStats.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", null, k), el("dd", null, v ?? "–")]));
}

async function showDetail(id) {
  const cards = await gatewayDetail(id, lastList.find((g) => g.id === id)).catch(() => null);
  if (id !== selected || !cards) return;
  detail.replaceChildren(...cards);
}

control.load().catch(() => null).finally(refresh);
setInterval(showDown, 1000);
