// The power-flow page: "/" (all gateways), "/gw/{id}/" or "/?gw=id" (one gateway).
import { LiveSource, ROOT, duration, el, getJson, lookQuery, params, setupLook } from "./common.js";
import { FlowView, statusSentence } from "./flow.js";
import { History, drawHistory } from "./history.js";
import { serverHistoryOn, serverPower } from "./history-server.js";

const STREAM_SILENCE_S = 15; // no message for this long: the stream is down
setupLook();
const root = document.documentElement;
const kiosk = params.get("kiosk") === "1";
document.body.classList.toggle("kiosk", kiosk);
const gatewayId = root.dataset.gateway || params.get("gw") || "";
const seriesId = gatewayId ? `gw:${gatewayId}` : "aggregate";

const flow = new FlowView(document.getElementById("flow"));
const sentence = document.getElementById("status-sentence");
const ageText = document.getElementById("data-age");
const banner = document.getElementById("banner");
const outageBanner = document.getElementById("outage");
const history = new History();
const powerChart = document.getElementById("chart-power");
const soeChart = document.getElementById("chart-soe");

let serverPoints = null; // the server's history, when it keeps one
const state = { model: null, age: null, receivedAt: 0, link: "", names: {}, partial: [] };

function soeOf(value) {
  return value === null || value === undefined ? null : value;
}

/** Aggregate stream data → the flow's model (plus the stale gateways for the banner). A
 * stale gateway's grid is unknown: only gateways whose data is fresh say "off grid". */
function aggregateModel(data) {
  const down = data.gateways.filter((g) => !g.stale && g.grid_status && g.grid_status !== "UP");
  const model = {
    power: data.power,
    soe: soeOf(data.soe && data.soe.percent_app),
    energyRemaining: data.soe ? data.soe.energy_remaining_wh : null,
    hasSolar: Boolean(data.power) && data.power.solar !== null && data.power.solar !== undefined,
    hasBattery: Boolean(data.soe),
    offGrid: down.length > 0 && down.length === data.gateways.length,
    partlyOffGrid: down.length > 0 && down.length < data.gateways.length ? down.map((g) => g.name) : [],
    stale: data.power === null,
  };
  state.partial = data.gateways.filter((g) => g.stale).map((g) => ({ name: g.name, updatedAt: g.updated_at }));
  return model;
}

function gatewayModel(data) {
  const gw = data.gateway;
  state.names[gw.id] = gw.name;
  const d = gw.data;
  state.reason = gw.problem ? gw.problem.replaceAll("_", " ") : "";
  if (!d) return { power: null, soe: null, stale: true, hasSolar: true, hasBattery: true, partlyOffGrid: [] };
  return {
    power: d.power_w,
    soe: soeOf(d.soe && d.soe.percent_app),
    energyRemaining: d.soe ? d.soe.energy_remaining_wh : null,
    hasSolar: d.power_w && d.power_w.solar !== null && d.power_w.solar !== undefined,
    hasBattery: Boolean(d.soe),
    offGrid: Boolean(d.grid_status) && d.grid_status !== "UP",
    partlyOffGrid: [],
    stale: Boolean(gw.stale),
  };
}

function recordHistory(data, ageOf, now) {
  let added = false;
  const point = (p, soe) => [p.site, p.battery, p.load, p.solar, soe];
  if (gatewayId) {
    const d = data.gateway.data;
    if (d && !data.gateway.stale) {
      const at = now - (ageOf(data.gateway.last_updated) || 0);
      added = history.record(seriesId, at, point(d.power_w, d.soe && d.soe.percent_app));
    }
  } else {
    if (data.power) added = history.record("aggregate", now - (ageOf(state.newest) || 0), point(data.power, data.soe && data.soe.percent_app));
    for (const g of data.gateways) {
      if (!g.stale && g.power) added = history.record(`gw:${g.id}`, now - (ageOf(g.updated_at) || 0), point(g.power, g.soe_percent_app)) || added;
    }
  }
  if (added && !kiosk && !serverPoints) drawHistory(history, seriesId, powerChart, soeChart);
}

function onData(data, ageOf) {
  const now = Date.now() / 1000;
  state.model = gatewayId ? gatewayModel(data) : aggregateModel(data);
  state.ageOf = ageOf;
  state.receivedAt = now;
  state.fresh = true;
  recordHistory(data, ageOf, now);
  render();
}

function render() {
  const now = Date.now() / 1000;
  const model = state.model;
  const silent = state.receivedAt && now - state.receivedAt > STREAM_SILENCE_S;
  const linkDown = state.link === "down";
  const age = model && state.ageOf ? state.ageOf(newestUpdate()) : null;
  const stale = !model || model.stale || silent || linkDown;
  document.body.classList.toggle("stale", Boolean(model) && stale);
  if (model && !model.stale && state.fresh) {
    state.fresh = false; // the drawing changes with the data, not with the clock
    flow.render(model);
    sentence.textContent = statusSentence(model);
  } else if (!model) {
    sentence.textContent = linkDown ? "Cannot reach the server" : state.link === "unknown" ? "" : "Waiting for data…";
  }
  const counted = model && !model.stale; // totals shown from at least one fresh gateway
  ageText.textContent = !model || stale || age === null || age === undefined ? "" : `Updated ${duration(age)} ago${state.link === "polling" ? " (polling)" : ""}`;
  // One message, with its reason; ages count on between messages.
  const problems = [];
  const since = age === null || age === undefined ? "" : ` for ${duration(age)}`;
  if (state.link === "unknown") problems.push(`Unknown gateway “${gatewayId}”`);
  else if (model && linkDown) problems.push(`Cannot reach the server: no data${since}`);
  else if (model && silent) problems.push(`The server stopped sending updates: no data${since}`);
  else if (model && stale) problems.push(`No data from ${gatewayId ? "the gateway" : "any gateway"}${since}${state.reason ? ` (${state.reason})` : ""}`);
  if (!stale && state.ageOf) {
    for (const g of state.partial) {
      const gAge = g.updatedAt === null || g.updatedAt === undefined ? null : state.ageOf(g.updatedAt);
      problems.push(`${g.name}: no data${gAge === null ? " yet" : ` for ${duration(gAge)}`}${counted ? " (left out of the totals)" : ""}`);
    }
  }
  const outage = model && !stale && (model.offGrid || model.partlyOffGrid.length);
  outageBanner.hidden = !outage;
  outageBanner.textContent = !outage ? "" : model.offGrid
    ? "Grid outage · the Powerwall is powering the home"
    : `Grid outage at ${model.partlyOffGrid.join(", ")} · the Powerwall there is powering it`;
  banner.hidden = problems.length === 0;
  banner.textContent = problems.join(" · ");
}

function newestUpdate() {
  return state.newest;
}

// Remember the newest data time the last message carried (server clock).
function trackNewest(data) {
  if (gatewayId) state.newest = data.gateway.last_updated;
  else {
    // The newest data shown: of the fresh gateways, or (all stale) of any, for "no data for N s".
    const known = data.gateways.filter((g) => g.updated_at !== null && g.updated_at !== undefined);
    const fresh = known.filter((g) => !g.stale);
    const times = (fresh.length ? fresh : known).map((g) => g.updated_at);
    state.newest = times.length ? Math.max(...times) : null;
  }
}

// --- REST fallback: the same shapes the streams send ------------------------------------
// Ages come from the API's age_seconds: with ts = 0, a time of -age reads as "age s old".
async function pollAggregate() {
  const [power, soe, list] = await Promise.all([getJson("api/aggregate/power"), getJson("api/aggregate/soe"), getJson("api/gateways")]);
  if (!list.ok) throw new Error("no gateway list");
  const details = await Promise.all(list.body.gateways.map((g) => getJson(`api/gateways/${encodeURIComponent(g.id)}`)));
  const gateways = list.body.gateways.map((g, i) => {
    const d = details[i].body && details[i].body.data;
    return {
      id: g.id, name: g.name, online: g.online, stale: g.stale,
      updated_at: g.age_seconds === null ? null : -g.age_seconds,
      power: d ? d.power_w : null, soe_percent_app: d && d.soe ? d.soe.percent_app : null,
      grid_status: d ? d.grid_status : null,
    };
  });
  const p = power.ok ? power.body : null;
  const data = {
    power: p ? { site: p.site, battery: p.battery, load: p.load, solar: p.solar, grid: p.grid } : null,
    soe: soe.ok ? soe.body : null,
    complete: Boolean(p && p.complete),
    gateways,
  };
  const ages = gateways.filter((g) => !g.stale && g.updated_at !== null).map((g) => g.updated_at);
  return { ts: 0, snapshot_ts: ages.length ? Math.max(...ages) : null, data };
}

async function pollGateway() {
  const detail = await getJson(`api/gateways/${encodeURIComponent(gatewayId)}`);
  if (detail.status === 404) {
    onLink("unknown");
    return null;
  }
  const gw = { ...detail.body, last_updated: detail.body.age_seconds === null ? null : -detail.body.age_seconds };
  return { ts: 0, snapshot_ts: gw.last_updated, data: { gateway: gw, vitals: null, strings: null, alerts: null } };
}

function onLink(kind) {
  state.link = kind;
  render();
}

const stream = gatewayId ? `ws/gateway/${encodeURIComponent(gatewayId)}` : "ws/aggregate";
const source = new LiveSource(stream, gatewayId ? pollGateway : pollAggregate, (data, ageOf) => {
  trackNewest(data);
  onData(data, ageOf);
}, onLink);
source.start();
setInterval(render, 1000);

// --- gateway switcher and history -------------------------------------------------------
const select = document.getElementById("gateway-select");
getJson("api/gateways").then(({ ok, body }) => {
  if (!ok) return;
  for (const g of body.gateways) select.append(el("option", { value: g.id }, g.name || g.id));
  select.value = gatewayId;
  document.getElementById("history-scope").textContent = gatewayId ? `· ${select.selectedOptions[0]?.textContent || gatewayId}` : "· all gateways";
});
select.addEventListener("change", () => {
  const target = new URL(ROOT.href);
  for (const [k, v] of lookQuery()) target.searchParams.set(k, v);
  if (select.value) target.searchParams.set("gw", select.value);
  location.href = target.href;
});
document.getElementById("history-clear").addEventListener("click", () => {
  history.clear();
  redraw();
});

// The server's 24 h of 1-minute power when it keeps history; this browser's own otherwise.
const SERVER_REFRESH_MS = 60000;
function redraw() {
  drawHistory(history, seriesId, powerChart, soeChart, serverPoints);
}
async function loadServerHistory() {
  const now = Date.now() / 1000;
  const points = await serverPower(now - 24 * 3600, now, gatewayId).catch(() => null);
  if (points) {
    serverPoints = points;
    document.getElementById("history-note").textContent = "Kept by the server (1-minute means, last 24 h).";
    document.getElementById("history-clear").hidden = true;
  }
  redraw();
}
if (!kiosk) {
  redraw();
  if (serverHistoryOn()) {
    loadServerHistory();
    setInterval(loadServerHistory, SERVER_REFRESH_MS);
  }
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(redraw, 200);
  });
}
