// History kept in this browser (localStorage): one point per 30 s per series, 24 h, oldest
// dropped; drawn as small SVG line charts.
import { el } from "./common.js";

const KEY = "pps-history-v1";
export const STEP_S = 30;
const SPAN_S = 24 * 3600;
const MAX_POINTS = SPAN_S / STEP_S;
const MAX_SERIES = 40;
const SVG = "http://www.w3.org/2000/svg";
// point: [t, site, battery, load, solar, soe]
const POWER_SERIES = [
  ["solar", 4, "Solar"],
  ["battery", 2, "Powerwall"],
  ["site", 1, "Grid"],
  ["load", 3, "Home"],
];

function readStore() {
  try {
    const store = JSON.parse(localStorage.getItem(KEY) || "null");
    if (store && store.v === 1 && typeof store.series === "object") return store;
  } catch {
    // unreadable: start again
  }
  return { v: 1, series: {} };
}

export class History {
  constructor() {
    this.store = readStore();
  }

  points(id) {
    return this.store.series[id] || [];
  }

  /** Adds a point unless the series has one from the last 30 s. Returns whether it did. */
  record(id, t, values) {
    const last = this.points(id).at(-1);
    if (last && t - last[0] < STEP_S) return false;
    this.store = readStore(); // another tab may have written since
    const series = (this.store.series[id] ||= []);
    const newest = series.at(-1);
    if (newest && t - newest[0] < STEP_S) return false;
    series.push([Math.round(t), ...values.map((v) => (v === null || v === undefined ? null : Math.round(v * 10) / 10))]);
    const cutoff = t - SPAN_S;
    while (series.length && (series[0][0] < cutoff || series.length > MAX_POINTS)) series.shift();
    this.trimSeries();
    this.save();
    return true;
  }

  trimSeries() {
    const ids = Object.keys(this.store.series);
    if (ids.length <= MAX_SERIES) return;
    ids.sort((a, b) => (this.points(a).at(-1)?.[0] || 0) - (this.points(b).at(-1)?.[0] || 0));
    for (const id of ids.slice(0, ids.length - MAX_SERIES)) delete this.store.series[id];
  }

  save() {
    for (;;) {
      try {
        localStorage.setItem(KEY, JSON.stringify(this.store));
        return;
      } catch {
        // full: drop the oldest half of the longest series and try again
        const longest = Object.values(this.store.series).sort((a, b) => b.length - a.length)[0];
        if (!longest || longest.length < 2) return;
        longest.splice(0, Math.ceil(longest.length / 2));
      }
    }
  }

  clear() {
    localStorage.removeItem(KEY);
    this.store = { v: 1, series: {} };
  }
}

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.append(node);
  return node;
}

function clock(t) {
  return new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Draws series of points into container; fixed range [lo, hi] or from the data. */
export function drawChart(container, points, series, range) {
  const width = Math.max(200, container.clientWidth || 600);
  const height = 160;
  const pad = { l: 40, r: 8, t: 8, b: 18 };
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, "data-points": points.length });
  if (points.length) root.dataset.first = String(points[0][0]);
  const values = points.flatMap((p) => series.map(([, i]) => p[i])).filter((v) => v !== null);
  let [lo, hi] = range || [Math.min(0, ...values), Math.max(0.1, ...values)];
  if (hi - lo < 0.1) hi = lo + 0.1;
  const t0 = points.length ? points[0][0] : 0;
  const t1 = points.length > 1 ? points.at(-1)[0] : t0 + 1;
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (height - pad.t - pad.b);
  svg("line", { x1: pad.l, x2: width - pad.r, y1: y(Math.max(lo, Math.min(hi, 0))), y2: y(Math.max(lo, Math.min(hi, 0))), class: "axis" }, root);
  for (const v of [lo, hi]) {
    const tick = svg("text", { x: pad.l - 4, y: y(v) + 4, class: "tick", "text-anchor": "end" }, root);
    tick.textContent = Math.round(v * 10) / 10;
  }
  if (points.length) {
    for (const [t, anchor, px] of [[t0, "start", pad.l], [t1, "end", width - pad.r]]) {
      const tick = svg("text", { x: px, y: height - 4, class: "tick", "text-anchor": anchor }, root);
      tick.textContent = clock(t);
    }
  }
  for (const [name, index] of series) {
    const coords = points.filter((p) => p[index] !== null).map((p) => `${x(p[0]).toFixed(1)},${y(p[index]).toFixed(1)}`);
    if (coords.length === 1) coords.push(coords[0].replace(/^[\d.]+/, (v) => String(Number(v) + 2)));
    svg("polyline", { points: coords.join(" "), class: `s-${name}` }, root);
  }
  const legend = el("div", { class: "legend" }, ...series.map(([name, , label]) => el("span", { class: `s-${name}` }, label)));
  container.replaceChildren(root, legend);
}

export function drawHistory(history, id, powerBox, soeBox, given = null) {
  const points = given || history.points(id);
  const kwPoints = points.map((p) => [p[0], ...p.slice(1, 5).map((v) => (v === null ? null : v / 1000)), p[5]]);
  drawChart(powerBox, kwPoints, POWER_SERIES);
  drawChart(soeBox, points, [["soe", 5, "Charge (app %)"]], [0, 100]);
}
