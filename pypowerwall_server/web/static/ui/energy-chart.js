// The energy page's charts, our own SVG: stacked energy bars per bucket (energy in above the
// axis, energy out below, the home's use as a tick) and a day's power lines on a time axis;
// both show the values under the pointer (or the focused bar) in a readout and a legend.
import { el, kw, kwh } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
// [key in the API, legend label, colour class]; in: above the axis, out: below it.
export const ENERGY_IN = [["solar_wh", "Solar", "solar"], ["battery_discharge_wh", "From Powerwall", "battery"], ["grid_import_wh", "From grid", "grid"]];
export const ENERGY_OUT = [["battery_charge_wh", "To Powerwall", "battery-in"], ["grid_export_wh", "To grid", "grid-out"]];
const HOME = ["home_wh", "Home", "home"];
const POWER = [["solar_w", "Solar", "solar"], ["home_w", "Home", "home"], ["site_w", "Grid", "grid"], ["battery_w", "Powerwall", "battery"]];

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.append(node);
  return node;
}

function text(parent, x, y, value, anchor = "middle") {
  const node = svg("text", { x, y, class: "tick", "text-anchor": anchor }, parent);
  node.textContent = value;
  return node;
}

function legend(series) {
  return el("div", { class: "legend" }, ...series.map(([, label, cls]) => el("span", { class: `s-${cls}` }, label)));
}

/** A round step for an axis of `span` units: 1, 2 or 5 × 10^n. */
function niceStep(span, ticks) {
  const raw = span / ticks;
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || power * 10;
}

const sum = (bucket, series) => series.reduce((total, [key]) => total + (bucket[key] || 0), 0);

/** Stacked bars of `buckets`; `label(bucket, i)` names a bucket on the axis. */
export function drawBars(container, buckets, label, readout) {
  const width = Math.max(280, container.clientWidth || 600);
  const height = 260;
  const pad = { l: 44, r: 8, t: 10, b: 22 };
  const hiKwh = Math.max(0.1, ...buckets.map((b) => Math.max(sum(b, ENERGY_IN), b.home_wh || 0))) / 1000;
  const loKwh = Math.max(0, ...buckets.map((b) => sum(b, ENERGY_OUT))) / 1000;
  const step = niceStep(hiKwh + loKwh, 4);
  const hi = Math.ceil(hiKwh / step) * step;
  const lo = Math.ceil(loKwh / step) * step;
  const y = (v) => pad.t + ((hi - v) / (hi + lo || 1)) * (height - pad.t - pad.b);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "bars", role: "img", "aria-label": "Energy per period, in kWh" });
  for (let v = -lo; v <= hi + 1e-9; v += step) {
    svg("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "gridline" }, root);
    text(root, pad.l - 4, y(v) + 4, `${Math.round(Math.abs(v) * 100) / 100}`, "end");
  }
  const slot = (width - pad.l - pad.r) / Math.max(1, buckets.length);
  const bar = Math.max(2, Math.min(36, slot * 0.7));
  const every = Math.ceil(buckets.length / Math.floor((width - pad.l) / 34));
  buckets.forEach((b, i) => {
    const x = pad.l + slot * i + (slot - bar) / 2;
    const group = svg("g", { class: `bucket${b.estimated ? " estimated" : ""}${b.complete === false ? " partial" : ""}`, tabindex: 0, "data-index": i }, root);
    let top = 0;
    for (const [key, , cls] of ENERGY_IN) {
      const v = (b[key] || 0) / 1000;
      if (v > 0) svg("rect", { x, width: bar, y: y(top + v), height: Math.max(0.5, y(top) - y(top + v)), class: `s-${cls}` }, group);
      top += v;
    }
    let bottom = 0;
    for (const [key, , cls] of ENERGY_OUT) {
      const v = (b[key] || 0) / 1000;
      if (v > 0) svg("rect", { x, width: bar, y: y(-bottom), height: Math.max(0.5, y(-bottom - v) - y(-bottom)), class: `s-${cls}` }, group);
      bottom += v;
    }
    if (typeof b.home_wh === "number") svg("line", { x1: x - 2, x2: x + bar + 2, y1: y(b.home_wh / 1000), y2: y(b.home_wh / 1000), class: "s-home-tick" }, group);
    svg("rect", { x: pad.l + slot * i, width: slot, y: pad.t, height: height - pad.t - pad.b, class: "hit" }, group);
    const title = svg("title", {}, group);
    title.textContent = bucketText(label(b, i, true), b);
    const show = () => { readout.textContent = title.textContent; };
    group.addEventListener("mouseenter", show);
    group.addEventListener("focus", show);
    if (i % every === 0) text(root, pad.l + slot * (i + 0.5), height - 6, label(b, i, false));
  });
  container.replaceChildren(root, legend([...ENERGY_IN, ...ENERGY_OUT, HOME]));
}

export function bucketText(name, b) {
  const parts = [...ENERGY_IN, HOME, ...ENERGY_OUT].map(([key, label]) => `${label} ${kwh(b[key])}`);
  if (typeof b.self_powered_pct === "number") parts.push(`Self-powered ${Math.round(b.self_powered_pct)} %`);
  if (b.estimated) parts.push("estimated");
  return `${name}: ${parts.join(" · ")}`;
}

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** A day's power: one line per meter (kW, 1-minute means) over [start, end] (ms). */
export function drawPower(container, points, start, end, readout) {
  const width = Math.max(280, container.clientWidth || 600);
  const height = 220;
  const pad = { l: 44, r: 8, t: 10, b: 22 };
  const rows = points.map((p) => ({ t: Date.parse(p.t), p }));
  const values = rows.flatMap(({ p }) => POWER.map(([key]) => (p[key] ? p[key].mean : null))).filter((v) => typeof v === "number").map((v) => v / 1000);
  const step = niceStep(Math.max(0.5, ...values) - Math.min(0, ...values), 4);
  const hi = Math.ceil(Math.max(0.5, ...values) / step) * step;
  const lo = Math.floor(Math.min(0, ...values) / step) * step;
  const x = (t) => pad.l + ((t - start) / (end - start)) * (width - pad.l - pad.r);
  const y = (v) => pad.t + ((hi - v) / (hi - lo)) * (height - pad.t - pad.b);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "power", role: "img", "aria-label": "Power during the day, in kW" });
  for (let v = lo; v <= hi + 1e-9; v += step) {
    svg("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: Math.abs(v) < 1e-9 ? "axis" : "gridline" }, root);
    text(root, pad.l - 4, y(v) + 4, `${Math.round(v * 10) / 10}`, "end");
  }
  const hours = (end - start) / 3600000;
  const tickH = width < 500 ? 6 : 3;
  for (let h = 0; h <= hours + 1e-9; h += tickH) text(root, x(start + h * 3600000), height - 6, clock(start + h * 3600000), h === 0 ? "start" : h >= hours ? "end" : "middle");
  for (const [key, , cls] of POWER) {
    let d = "";
    let pen = "M";
    for (const { t, p } of rows) {
      const v = p[key] && typeof p[key].mean === "number" ? p[key].mean / 1000 : null;
      if (v === null) { pen = "M"; continue; }
      d += `${pen}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = "L";
    }
    svg("path", { d, class: `line s-${cls}`, "data-series": key }, root);
  }
  const cursor = svg("line", { y1: pad.t, y2: height - pad.b, class: "cursor", display: "none" }, root);
  root.addEventListener("pointermove", (event) => {
    if (!rows.length) return;
    const box = root.getBoundingClientRect();
    const t = start + ((event.clientX - box.left) * (width / box.width) - pad.l) / (width - pad.l - pad.r) * (end - start);
    const near = rows.reduce((best, r) => (Math.abs(r.t - t) < Math.abs(best.t - t) ? r : best), rows[0]);
    cursor.setAttribute("x1", x(near.t));
    cursor.setAttribute("x2", x(near.t));
    cursor.setAttribute("display", "inline");
    readout.textContent = powerText(near.t, near.p);
  });
  root.addEventListener("pointerleave", () => cursor.setAttribute("display", "none"));
  container.replaceChildren(root, legend(POWER));
}

export function powerText(t, p) {
  const v = (key) => (p[key] && typeof p[key].mean === "number" ? p[key].mean : null);
  const grid = v("site_w");
  const battery = v("battery_w");
  const soe = v("soe_pct");
  const parts = [`Solar ${kw(v("solar_w"))}`, `Home ${kw(v("home_w"))}`,
    `Grid ${kw(grid)}${grid === null || Math.abs(grid) < 50 ? "" : grid > 0 ? " importing" : " exporting"}`,
    `Powerwall ${kw(battery)}${battery === null || Math.abs(battery) < 50 ? "" : battery > 0 ? " discharging" : " charging"}`];
  if (soe !== null) parts.push(`charge ${Math.round(soe)} %`);
  if (p.grid_status === "down") parts.push("off grid");
  return `${clock(t)}: ${parts.join(" · ")}`;
}
