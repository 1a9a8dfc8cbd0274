// The management console: every gateway, one gateway's detail, the server's own numbers.
import { duration, el, getJson, kw, percent, setupLook } from "./common.js";
import { ControlPanel } from "./control.js";
import { degradedBadge, transportCard, transportCell } from "./transport.js";

setupLook();
const REFRESH_MS = 5000;
const tbody = document.querySelector("#gateways tbody");
const detail = document.getElementById("detail");
const serverStats = document.getElementById("server-stats");
const banner = document.getElementById("banner");
let selected = new URLSearchParams(location.search).get("gw") || "";
let lastList = []; // the newest /api/gateways answer (a stale gateway's detail is a 503)
const control = new ControlPanel(document.getElementById("control"), () => showDetail(selected));

function cell(...children) {
  return el("td", null, ...children);
}

function stateText(g) {
  if (!g.online) return el("span", { class: "state-bad" }, "offline");
  if (g.stale) return el("span", { class: "state-bad" }, "stale");
  return el("span", { class: "state-ok" }, "online");
}

function stateCell(g) {
  const badge = degradedBadge(g);
  return badge ? cell(stateText(g), " ", badge) : cell(stateText(g));
}

async function refresh() {
  const [list, stats] = await Promise.all([getJson("api/gateways"), getJson("stats")]);
  banner.hidden = list.ok && stats.ok;
  banner.textContent = list.ok ? "" : "Cannot read /api/gateways";
  if (!list.ok) return;
  lastList = list.body.gateways;
  const counts = stats.ok ? stats.body.gateways || {} : {};
  const details = await Promise.all(list.body.gateways.map((g) => getJson(`api/gateways/${encodeURIComponent(g.id)}`)));
  if (!selected && list.body.gateways.length) selected = list.body.gateways[0].id;
  tbody.replaceChildren(
    ...list.body.gateways.map((g, i) => {
      const c = counts[g.id] || {};
      const data = details[i].body && details[i].body.data;
      const row = el(
        "tr",
        { "data-id": g.id, class: g.id === selected ? "selected" : null, onclick: () => select(g.id) },
        cell(el("strong", null, g.name || g.id), el("br"), el("span", { class: "note" }, g.id)),
        cell(...transportCell(g)),
        stateCell(g),
        cell(duration(g.age_seconds)),
        cell(data && data.firmware_version ? data.firmware_version : "–"),
        cell(c.polls ?? "–"),
        cell(c.failures ?? "–"),
        el("td", { class: "error" }, g.last_error || "–"),
      );
      return row;
    }),
  );
  if (stats.ok) showServer(stats.body);
  if (selected) {
    showDetail(selected);
    control.show(selected);
  }
}

function select(id) {
  selected = id;
  for (const row of tbody.rows) row.classList.toggle("selected", row.dataset.id === id);
  showDetail(id);
  control.show(id);
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

function card(title, ...body) {
  return el("div", { class: "card" }, el("h3", null, title), ...body);
}

function list(items) {
  return items.length ? el("ul", null, ...items.map((i) => el("li", null, i))) : el("p", { class: "note" }, "none");
}

function unavailable(answer) {
  const why = answer.unavailable
    || (answer.body && answer.body.error ? answer.body.error : `HTTP ${answer.status}`);
  return el("p", { class: "note" }, `Not available: ${why}`);
}

async function showDetail(id) {
  const q = encodeURIComponent(id);
  const [gw, status, strings, temps, alerts] = await Promise.all([
    getJson(`api/gateways/${q}`),
    getJson(`gw/${q}/api/system_status`),
    getJson(`api/gateways/${q}/strings`),
    getJson(`gw/${q}/temps`),
    getJson(`api/gateways/${q}/alerts`),
  ]);
  if (id !== selected) return;
  const d = gw.ok ? gw.body.data : null;
  const w = (d && d.power_w) || {}; // null when the meters are missing (degraded data)
  const power = d
    ? list([
        `Solar: ${kw(w.solar)}`,
        `Powerwall: ${kw(w.battery)}${direction(w.battery, "discharging", "charging")}`,
        `Grid: ${kw(w.site)}${direction(w.site, "importing", "exporting")}`,
        `Home: ${kw(w.load)}`,
      ])
    : unavailable(gw);
  const summary = d
    ? list([
        `Charge: ${percent(d.soe && d.soe.percent_app)} (app scale)`,
        `Grid: ${d.grid_status ?? "–"}`,
        `Reserve: ${percent(d.backup_reserve_percent_app)}`,
        `Mode: ${d.operating_mode ?? "–"}`,
        `Site: ${d.site_name ?? "–"}`,
      ])
    : unavailable(gw);
  const blocks = status.ok && Array.isArray(status.body.battery_blocks)
    ? list(status.body.battery_blocks.map((b) => `${b.PackageSerialNumber || "?"}: ${kwh(b.nominal_energy_remaining)} of ${kwh(b.nominal_full_pack_energy)}`))
    : unavailable(status);
  const stringList = strings.ok && strings.body
    ? list(Object.entries(strings.body).map(([name, s]) => `${name}: ${kw(s.Power)}${s.Connected === false ? " (not connected)" : ""}`))
    : unavailable(strings);
  const tempList = temps.ok && temps.body ? list(Object.entries(temps.body).map(([name, t]) => `${name}: ${t} °C`)) : unavailable(temps);
  const alertList = alerts.ok && Array.isArray(alerts.body) ? list(alerts.body) : unavailable(alerts);
  const title = gw.ok ? gw.body.name || id : id;
  const listed = lastList.find((g) => g.id === id);
  detail.replaceChildren(
    el("h2", null, `Detail · ${title}`),
    el("div", { class: "cards" },
      listed ? transportCard(listed) : null,
      card("Power", power),
      card("Summary", summary),
      card("Batteries", blocks),
      card("Solar strings", stringList),
      card("Temperatures", tempList),
      card("Alerts", alertList),
    ),
  );
}

function direction(watts, positive, negative) {
  if (watts === null || watts === undefined || Math.abs(watts) < 20) return "";
  return watts > 0 ? ` ${positive}` : ` ${negative}`;
}

function kwh(wh) {
  return wh === null || wh === undefined ? "–" : `${(wh / 1000).toFixed(1)} kWh`;
}

control.load().finally(refresh);
setInterval(refresh, REFRESH_MS);
