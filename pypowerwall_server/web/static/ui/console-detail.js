// One gateway's detail cards in the console: power, summary, batteries, strings,
// temperatures and alerts, in the words the Tesla app uses; one card when it is offline.
import { el, getJson, kw, kwh, percent, words } from "./common.js";
import { transportCard } from "./transport.js";

// Alert names as the Tesla app words them, where known; others are split into words.
const ALERTS = {
  SystemConnectedToGrid: "Connected to the grid",
  SystemIslandedActive: "Off grid (islanded)",
  GridCodesWrite: "Grid code settings written",
  FWUpdateSucceeded: "Firmware update succeeded",
  BatteryFault: "Powerwall fault",
  PodCommissionTime: "Powerwall commissioned",
  RealPowerAvailableLimited: "Available power limited",
  ScheduledIslandContactorOpen: "Grid disconnected (scheduled)",
  PVS_a018_MciStringC: "Solar string C fault",
};

export function alertName(name) {
  return ALERTS[name] || String(name).replace(/_/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
}

function card(title, ...body) {
  return el("div", { class: "card" }, el("h3", null, title), ...body);
}

function list(items) {
  return items.length ? el("ul", null, ...items.map((i) => el("li", null, ...[].concat(i)))) : el("p", { class: "note" }, "none");
}

function unavailable(answer) {
  const why = answer.unavailable || (answer.body && answer.body.error ? answer.body.error : `HTTP ${answer.status}`);
  return el("p", { class: "note" }, `Not available: ${why}`);
}

function direction(watts, positive, negative) {
  if (watts === null || watts === undefined || Math.abs(watts) < 50) return "";
  return watts > 0 ? ` ${positive}` : ` ${negative}`;
}

/** Temperatures by battery: "Powerwall 1" (its serial on hover), not the raw TETHC key. */
function temperatures(body) {
  return Object.entries(body).map(([name, t], i) => {
    const serial = String(name).split("--")[2] || String(name);
    return [el("abbr", { title: `${name}` }, `Powerwall ${i + 1}`), ` (${serial.slice(-6)}): ${t} °C`];
  });
}

function offlineCard(listed, gw) {
  const parts = [el("p", null, `Not available: ${listed && listed.problem ? listed.problem.replaceAll("_", " ") : gw.body?.error || `HTTP ${gw.status}`}`)];
  if (listed && listed.hint) parts.push(el("p", { class: "hint" }, listed.hint));
  if (listed && listed.last_error) parts.push(el("details", null, el("summary", null, "Last error"), el("p", { class: "error" }, listed.last_error)));
  return el("div", { class: "card warn" }, el("h3", null, "Gateway not available"), ...parts);
}

export async function gatewayDetail(id, listed) {
  const q = encodeURIComponent(id);
  const gw = await getJson(`api/gateways/${q}`);
  const title = el("h2", null, `Detail · ${gw.ok ? gw.body.name || id : listed ? listed.name || id : id}`);
  const d = gw.ok ? gw.body.data : null;
  if (!d) return [title, el("div", { class: "cards" }, listed ? transportCard(listed) : null, offlineCard(listed, gw))];
  const [status, strings, temps, alerts] = await Promise.all([
    getJson(`gw/${q}/api/system_status`),
    getJson(`api/gateways/${q}/strings`),
    getJson(`gw/${q}/temps`),
    getJson(`api/gateways/${q}/alerts`),
  ]);
  const w = d.power_w || {}; // null when the meters are missing (degraded data)
  const power = list([
    `Solar: ${kw(w.solar)}`,
    `Powerwall: ${kw(w.battery)}${direction(w.battery, "discharging", "charging")}`,
    `Grid: ${kw(w.site)}${direction(w.site, "importing", "exporting")}`,
    `Home: ${kw(w.load)}`,
  ]);
  const summary = list([
    `Charge: ${percent(d.soe && d.soe.percent_app)}`,
    `Grid: ${d.grid_status === "UP" ? "connected" : d.grid_status ? "off grid" : "–"}`,
    `Reserve: ${percent(d.backup_reserve_percent_app)}`,
    `Mode: ${words(d.operating_mode)}`,
    `Site: ${d.site_name ?? "–"}`,
  ]);
  const blocks = status.ok && Array.isArray(status.body.battery_blocks)
    ? list(status.body.battery_blocks.map((b, i) => `Powerwall ${i + 1}: ${kwh(b.nominal_energy_remaining)} of ${kwh(b.nominal_full_pack_energy)}`))
    : unavailable(status);
  const stringList = strings.ok && strings.body
    ? list(Object.entries(strings.body).map(([name, s]) => `String ${name}: ${kw(s.Power)}${s.Connected === false ? " (not connected)" : ""}`))
    : unavailable(strings);
  const tempList = temps.ok && temps.body ? list(temperatures(temps.body)) : unavailable(temps);
  const alertList = alerts.ok && Array.isArray(alerts.body) ? list(alerts.body.map(alertName)) : unavailable(alerts);
  return [title, el("div", { class: "cards" },
    listed ? transportCard(listed) : null,
    card("Power", power),
    card("Summary", summary),
    card("Batteries", blocks),
    card("Solar strings", stringList),
    card("Temperatures", tempList),
    card("Alerts", alertList))];
}
