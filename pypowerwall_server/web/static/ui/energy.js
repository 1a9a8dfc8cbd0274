// The energy page: what the server's history holds for a day, week, month or year (stacked
// bars, totals, self-powered %, cost), a day's power, and the grid outages of the period.
import { duration, el, getJson, kwh, params, setupLook } from "./common.js";
import { drawBars, drawPower } from "./energy-chart.js";
import { gatewayQuery } from "./history-server.js";

setupLook();
const VIEWS = ["day", "week", "month", "year"];
const $ = (id) => document.getElementById(id);
const view = { period: VIEWS.includes(params.get("view")) ? params.get("view") : "day", date: params.get("date") || null, gateway: params.get("gateway") || "" };
let answer = null; // the newest energy answer, for redrawing on resize
// The days are the gateways' local days, not this browser's: the first answer (asked
// without a date, so the server picks the site's today) gives their time zone.
let zone = null;

function today() {
  if (!zone) return iso(new Date());
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date());
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

function iso(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function parseDate(text) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(y, m - 1, d);
}

/** The same view one period earlier (-1) or later (+1). */
function shifted(date, period, by) {
  const d = parseDate(date);
  if (period === "day") d.setDate(d.getDate() + by);
  else if (period === "week") d.setDate(d.getDate() + 7 * by);
  else if (period === "month") d.setMonth(d.getMonth() + by, 1);
  else d.setFullYear(d.getFullYear() + by, 0, 1);
  return iso(d);
}

function title(period, date) {
  const d = parseDate(date);
  if (period === "day") return d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  if (period === "week") {
    const monday = new Date(d);
    monday.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    return `Week of ${monday.toLocaleDateString([], { day: "numeric", month: "long", year: "numeric" })}`;
  }
  if (period === "month") return d.toLocaleDateString([], { month: "long", year: "numeric" });
  return String(d.getFullYear());
}

/** A bucket's name on the axis (short) or in its readout (long). */
function bucketLabel(period) {
  return (b, i, long) => {
    const start = new Date(b.start);
    if (period === "day") return long ? start.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : String(start.getHours());
    if (period === "week") return start.toLocaleDateString([], long ? { weekday: "long", day: "numeric", month: "short" } : { weekday: "short" });
    if (period === "month") return long ? start.toLocaleDateString([], { day: "numeric", month: "long" }) : String(start.getDate());
    return start.toLocaleDateString([], { month: long ? "long" : "short" });
  };
}

function money(value) {
  return typeof value === "number" ? value.toFixed(2) : "–";
}

function showTotals(totals) {
  const t = totals || {};
  const tiles = [
    ["Solar", kwh(t.solar_wh), "solar"], ["Home", kwh(t.home_wh), "home"],
    ["From grid", kwh(t.grid_import_wh), "grid"], ["To grid", kwh(t.grid_export_wh), "grid-out"],
    ["From Powerwall", kwh(t.battery_discharge_wh), "battery"], ["To Powerwall", kwh(t.battery_charge_wh), "battery-in"],
    ["Self-powered", typeof t.self_powered_pct === "number" ? `${Math.round(t.self_powered_pct)} %` : "–", "self"],
    ["Cost", money(t.cost), "cost"],
  ];
  $("totals").replaceChildren(...tiles.map(([name, value, cls]) => el("div", { class: `tile t-${cls}`, "data-key": cls }, el("span", { class: "tile-name" }, name), el("strong", null, value))));
}

function say(text) {
  $("energy-message").hidden = !text;
  $("energy-message").textContent = text;
}

function updateUrl() {
  const url = new URL(location.href);
  url.searchParams.set("view", view.period);
  if (view.date) url.searchParams.set("date", view.date);
  if (view.gateway) url.searchParams.set("gateway", view.gateway);
  else url.searchParams.delete("gateway");
  history.replaceState(null, "", url.href);
}

async function load() {
  updateUrl();
  for (const button of document.querySelectorAll("[data-view]")) button.setAttribute("aria-pressed", String(button.dataset.view === view.period));
  if (view.date) showPeriod();
  const gw = gatewayQuery(view.gateway);
  const when = view.date ? `&date=${view.date}` : "";
  const energy = await getJson(`api/history/energy?period=${view.period}${when}${gw}`).catch(() => null);
  if (energy && energy.ok && energy.body && energy.body.timezone) zone = energy.body.timezone;
  if (!view.date) {
    view.date = (energy && energy.ok && energy.body && energy.body.date) || today();
    updateUrl();
    showPeriod();
  }
  if (!energy || !energy.ok || !energy.body || !Array.isArray(energy.body.buckets)) {
    answer = null;
    const body = energy && energy.body;
    const why = body && (body.reason || body.error);
    say(energy && energy.status === 503 ? `History is not available: ${why || "turned off on this server"}.` : `Cannot read the history${why ? `: ${why}` : ""}.`);
    showTotals(null);
    for (const id of ["chart-energy", "chart-day", "outage-list"]) $(id).replaceChildren();
    $("day-power").hidden = true;
    return;
  }
  say("");
  answer = energy.body;
  showTotals(answer.totals);
  const estimated = answer.buckets.some((b) => b.estimated);
  $("estimated-note").hidden = !estimated;
  drawEnergy();
  const buckets = answer.buckets;
  const start = buckets.length ? buckets[0].start : null;
  const end = buckets.length ? buckets.at(-1).end : null;
  $("day-power").hidden = view.period !== "day";
  if (start && end) {
    await Promise.all([view.period === "day" ? loadPower(start, end, gw) : null, loadOutages(start, end, gw)]);
  }
}

function showPeriod() {
  $("period-title").textContent = title(view.period, view.date);
  $("next").disabled = shifted(view.date, view.period, 1) > today() && view.date >= today();
}

function drawEnergy() {
  if (answer) drawBars($("chart-energy"), answer.buckets, bucketLabel(view.period), $("energy-readout"));
}

let power = null;
async function loadPower(start, end, gw) {
  const answerPower = await getJson(`api/history/power?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}&step=60${gw}`).catch(() => null);
  power = answerPower && answerPower.ok ? { points: answerPower.body.points || [], start: Date.parse(start), end: Date.parse(end) } : null;
  drawDay();
}

function drawDay() {
  if (power) drawPower($("chart-day"), power.points, power.start, power.end, $("day-readout"));
  else $("chart-day").replaceChildren(el("p", { class: "note" }, "No power history for this day."));
}

async function loadOutages(start, end, gw) {
  const list = await getJson(`api/history/outages?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}${gw}`).catch(() => null);
  const outages = list && list.ok && Array.isArray(list.body.outages) ? list.body.outages : null;
  const box = $("outage-list");
  if (outages === null) return box.replaceChildren(el("p", { class: "note" }, "The outage list is not available."));
  if (!outages.length) return box.replaceChildren(el("p", { class: "note" }, "No grid outages in this period."));
  const when = (t) => new Date(t).toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  const heads = ["Start", "End", "Length", "From Powerwall", "Gateway"];
  const cells = (o) => [when(o.start), o.end ? when(o.end) : "ongoing", duration(o.duration_s), kwh(o.battery_wh), o.gateway || "–"];
  box.replaceChildren(el("table", { class: "outages phone-cards" },
    el("thead", null, el("tr", null, ...heads.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", null, ...outages.map((o) => el("tr", null, ...cells(o).map((c, i) => el("td", { "data-label": heads[i] }, c)))))));
}

function move(by) {
  view.date = shifted(view.date, view.period, by);
  load();
}

$("prev").addEventListener("click", () => move(-1));
$("next").addEventListener("click", () => move(1));
for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => { view.period = button.dataset.view; load(); });
}
const select = $("gateway-select");
select.addEventListener("change", () => { view.gateway = select.value; load(); });
getJson("api/gateways").then(({ ok, body }) => {
  if (!ok) return;
  for (const g of body.gateways) select.append(el("option", { value: g.id }, g.name || g.id));
  select.value = view.gateway;
}).catch(() => null);
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { drawEnergy(); if (view.period === "day") drawDay(); }, 200);
});
load();
