// The power-flow drawing, our own SVG: four nodes and one line per flow (solar → home,
// grid → Powerwall, …), each with its own value, an arrow and a word for its direction.
import { kw, percent } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
export const IDLE_W = 50; // below this a flow is not drawn: its label would read "0.0 kW"
const R = 38;
const DASH_CYCLE = 17; // px: one dash and its gap (app.css: stroke-dasharray 4 13)
const MOTION_MS = 200; // five moves a second
const C = { x: 240, y: 220 };
const NODES = {
  solar: { x: 240, y: 70, name: "Solar", text: [-70, -48] },
  grid: { x: 70, y: 220, name: "Grid", text: [60, 84] },
  home: { x: 410, y: 220, name: "Home", text: [60, 84] },
  battery: { x: 240, y: 370, name: "Powerwall", text: [72, 96] },
};
// Every flow the meters can show, source → sink (grid ↔ Powerwall share one track).
export const FLOWS = ["solar_home", "solar_battery", "solar_grid", "grid_home", "grid_battery", "battery_home", "battery_grid"];
const ICONS = {
  solar: "M-9,0a9,9 0 1,0 18,0a9,9 0 1,0 -18,0M0,-17v-4M0,17v4M-17,0h-4M17,0h4M-12,-12l-3,-3M12,12l3,3M-12,12l-3,3M12,-12l3,-3",
  grid: "M-10,18L-4,-18H4L10,18M-7,4H7M-9,12H9M-14,-10H14M-5,-10L5,4M5,-10L-5,4",
  home: "M-16,0L0,-15L16,0M-11,-4V16H11V-4M-4,16V6H4V16",
};
// Words for a meter's direction (API signs: grid + import, battery + discharge).
const DIRECTION = {
  grid: ["importing", "exporting"],
  battery: ["discharging", "charging"],
  solar: ["producing", ""],
  home: ["using", ""],
};

/**
 * Split the four meters into flows, the way the Tesla app draws them. The home is served by
 * solar first, then the Powerwall, then the grid; what solar has left charges the Powerwall,
 * then goes to the grid; the grid's import left after the home charges the Powerwall; a
 * discharge left after the home is exported. When the meters disagree (they are read a few
 * milliseconds apart and each has its own error) a flow is never more than either end says:
 * whatever no meter pairs with is left out of the lines (each node still shows its meter).
 */
export function splitFlows(power) {
  const pos = (v) => (typeof v === "number" && v > 0 ? v : 0);
  let solar = pos(power.solar);
  let discharge = pos(power.battery);
  let charge = pos(-(power.battery ?? 0));
  let imported = pos(power.site);
  let exported = pos(-(power.site ?? 0));
  let home = pos(power.load);
  const flows = Object.fromEntries(FLOWS.map((f) => [f, 0]));
  const move = (name, from, to) => {
    const amount = Math.min(from, to);
    flows[name] += amount;
    return amount;
  };
  let m = move("solar_home", solar, home); solar -= m; home -= m;
  m = move("battery_home", discharge, home); discharge -= m; home -= m;
  m = move("grid_home", imported, home); imported -= m; home -= m;
  m = move("solar_battery", solar, charge); solar -= m; charge -= m;
  m = move("grid_battery", imported, charge); imported -= m; charge -= m;
  m = move("solar_grid", solar, exported); solar -= m; exported -= m;
  move("battery_grid", discharge, exported);
  return flows;
}

/** Change an attribute or text only when it differs: an unchanged write still restyles. */
function setAttr(node, key, value) {
  if (node.getAttribute(key) !== value) node.setAttribute(key, value);
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.append(node);
  return node;
}

/** A flow's track: straight across the middle, or curved around the corner it turns. */
function geometry(from, to) {
  const a = NODES[from];
  const b = NODES[to];
  const straight = (a.x === b.x) || (a.y === b.y);
  const ctrl = straight ? { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }
    : { x: (C.x + (Math.abs(a.x - C.x) > Math.abs(b.x - C.x) ? a.x : b.x)) / 2,
        y: (C.y + (Math.abs(a.y - C.y) > Math.abs(b.y - C.y) ? a.y : b.y)) / 2 };
  const edge = (p, gap) => {
    const dx = ctrl.x - p.x;
    const dy = ctrl.y - p.y;
    const len = Math.hypot(dx, dy);
    return { x: p.x + (dx / len) * gap, y: p.y + (dy / len) * gap };
  };
  const s = edge(a, R + (from === "battery" ? 14 : 10));
  const e = edge(b, R + (to === "battery" ? 22 : 14)); // clear of the Powerwall's charge ring
  const t = straight ? 0.3 : 0.5; // straight tracks cross in the middle: labels off it
  const at = (k) => (1 - t) ** 2 * s[k] + 2 * (1 - t) * t * ctrl[k] + t * t * e[k];
  // The value sits beside its line, away from the middle, never on the dashes.
  let label = { x: at("x"), y: at("y"), anchor: "middle" };
  if (straight && a.x === b.x) label = { x: label.x + 10, y: label.y + 5, anchor: "start" };
  else if (straight) label = { x: label.x, y: label.y - 12, anchor: "middle" };
  else {
    const dx = label.x - C.x;
    const dy = label.y - C.y;
    const len = Math.hypot(dx, dy) || 1;
    label = { x: label.x + (dx / len) * 14, y: label.y + (dy / len) * 14 + 5, anchor: dx < 0 ? "end" : "start" };
  }
  return { d: `M${s.x.toFixed(1)},${s.y.toFixed(1)} Q${ctrl.x.toFixed(1)},${ctrl.y.toFixed(1)} ${e.x.toFixed(1)},${e.y.toFixed(1)}`, label };
}

/** Seconds per dash cycle: 2.4 s at 50 W, growing faster up to 0.4 s at 10 kW. */
export function dashSeconds(watts) {
  const span = Math.log10(10000) - Math.log10(IDLE_W);
  const k = Math.min(1, Math.max(0, (Math.log10(Math.max(watts, 1)) - Math.log10(IDLE_W)) / span));
  return 2.4 - 2.0 * k;
}

export class FlowView {
  constructor(container) {
    this.root = svg("svg", {
      viewBox: "0 -24 480 504",
      role: "img",
      "aria-labelledby": "flow-title",
      id: "flow-svg",
    });
    this.title = svg("title", { id: "flow-title" }, this.root);
    this.title.textContent = "Power flow between solar, Powerwall, home and grid";
    const defs = svg("defs", {}, this.root);
    for (const source of ["solar", "grid", "battery"]) {
      const marker = svg("marker", { id: `arrow-${source}`, viewBox: "0 0 10 10", refX: 5, refY: 5, markerWidth: 4, markerHeight: 4, orient: "auto-start-reverse" }, defs);
      svg("path", { d: "M0,0L10,5L0,10z", class: `arrow-${source}` }, marker);
    }
    this.tracks = {};
    this.flows = {};
    const seen = new Set();
    for (const name of FLOWS) {
      const [from, to] = name.split("_");
      const geo = geometry(from, to);
      const pair = [from, to].sort().join("-");
      if (!seen.has(pair)) {
        seen.add(pair);
        this.tracks[pair] = svg("path", { d: geo.d, class: "flow-line base", "data-pair": pair }, this.root);
      }
      const group = svg("g", { id: `flow-${name}`, class: `flow from-${from}`, display: "none" }, this.root);
      const line = svg("path", { d: geo.d, class: "flow-line moving", "marker-end": `url(#arrow-${from})` }, group);
      const label = svg("text", { x: geo.label.x.toFixed(1), y: geo.label.y.toFixed(1), "text-anchor": geo.label.anchor, class: "flow-value", id: `flowlabel-${name}` }, group);
      this.flows[name] = { group, line, label, pair: [from, to], seconds: 0, offset: 0 };
    }
    this.labels = {};
    this.dirs = {};
    this.nodes = {};
    for (const [key, spec] of Object.entries(NODES)) this.nodes[key] = this.node(key, spec);
    container.replaceChildren(this.root);
    this.startMotion();
  }

  /** The dashes move a few times a second from one timer: a CSS animation of the dashes
   * restyles and repaints the drawing every frame (~8 % of a core on a kiosk), this ~1 %.
   * None at all when the user asks for reduced motion, or while the data is stale. */
  startMotion() {
    const still = window.matchMedia("(prefers-reduced-motion: reduce)");
    this.root.dataset.motion = still.matches ? "off" : "on";
    if (still.matches) return;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      const dt = (now - last) / 1000;
      last = now;
      if (document.hidden || document.body.classList.contains("stale")) return;
      for (const view of Object.values(this.flows)) {
        if (!view.seconds) continue;
        view.offset = (view.offset - (DASH_CYCLE * dt) / view.seconds) % DASH_CYCLE;
        view.line.setAttribute("stroke-dashoffset", view.offset.toFixed(1));
      }
    }, MOTION_MS);
  }

  node(key, spec) {
    const group = svg("g", { id: `node-${key}`, class: "flow-node", transform: `translate(${spec.x},${spec.y})` }, this.root);
    if (key === "battery") {
      svg("circle", { r: R + 8, class: "soe-track" }, group);
      this.ring = svg("circle", { r: R + 8, class: "soe-ring", transform: "rotate(-90)", id: "soe-ring" }, group);
      this.ringLength = 2 * Math.PI * (R + 8);
      this.ring.setAttribute("stroke-dasharray", `0 ${this.ringLength}`);
    }
    svg("circle", { r: R, class: "disc" }, group);
    if (key === "battery") {
      this.soeText = svg("text", { y: 13, class: "soe-text", id: "soe-text" }, group);
      this.soeNumber = svg("tspan", {}, this.soeText);
      this.soeUnit = svg("tspan", { class: "soe-unit" }, this.soeText);
    }
    else svg("path", { d: ICONS[key], class: "icon" }, group);
    const [nameY, valueY] = spec.text;
    const name = svg("text", { y: nameY, class: "name" }, group);
    name.append(spec.name);
    this.dirs[key] = svg("tspan", { id: `dir-${key}`, class: "dir" }, name);
    this.labels[key] = svg("text", { y: valueY, class: "flow-label", id: `label-${key}` }, group);
    if (key === "grid") {
      svg("path", { d: "M-30,-30L30,30M30,-30L-30,30", class: "grid-cross" }, group);
      const off = svg("text", { y: valueY + 24, class: "off-grid-text", id: "off-grid-text" }, group);
      off.textContent = "Off grid";
    }
    return group;
  }

  /** model: {power: {site, battery, load, solar}, soe, hasSolar, hasBattery, offGrid} */
  render(model) {
    const p = model.power || {};
    const shown = { solar: model.hasSolar, battery: model.hasBattery, grid: true, home: true };
    this.meter("solar", p.solar, shown.solar);
    this.meter("grid", p.site, true);
    this.meter("home", p.load, true);
    this.meter("battery", p.battery, shown.battery);
    for (const key of ["solar", "battery"]) setAttr(this.nodes[key], "display", shown[key] ? "inline" : "none");
    for (const [pair, track] of Object.entries(this.tracks)) {
      setAttr(track, "display", pair.split("-").every((k) => shown[k]) ? "inline" : "none");
    }
    const flows = splitFlows(model.offGrid ? { ...p, site: 0 } : p);
    for (const [name, view] of Object.entries(this.flows)) this.flow(view, flows[name], view.pair.every((k) => shown[k]));
    if (this.root.classList.contains("off-grid") !== Boolean(model.offGrid)) this.root.classList.toggle("off-grid", Boolean(model.offGrid));
    const soe = model.soe;
    const known = soe !== null && soe !== undefined;
    setText(this.soeNumber, known ? String(Math.round(soe)) : "–");
    setText(this.soeUnit, known ? " %" : "");
    setAttr(this.soeText, "data-percent", known ? String(soe) : "");
    const filled = known ? (Math.max(0, Math.min(100, soe)) / 100) * this.ringLength : 0;
    setAttr(this.ring, "stroke-dasharray", `${filled.toFixed(1)} ${this.ringLength.toFixed(1)}`);
  }

  meter(key, watts, visible) {
    const label = this.labels[key];
    const known = visible && watts !== null && watts !== undefined;
    setText(label, known ? kw(watts) : "–");
    setAttr(label, "data-watts", known ? String(watts) : "");
    const [plus, minus] = DIRECTION[key];
    const word = !known || Math.abs(watts) < IDLE_W ? (key === "battery" && known ? "idle" : "") : watts > 0 ? plus : minus;
    setText(this.dirs[key], word ? ` · ${word}` : "");
    label.classList.toggle("idle", !known || Math.abs(watts) < IDLE_W);
  }

  flow(view, watts, visible) {
    const on = visible && watts >= IDLE_W;
    setAttr(view.group, "display", on ? "inline" : "none");
    setAttr(view.group, "data-watts", on ? String(Math.round(watts)) : "0");
    view.seconds = on ? dashSeconds(watts) : 0;
    if (on) setText(view.label, kw(watts));
  }
}

/** The status sentence, from the same numbers as the drawing. */
export function statusSentence(model) {
  const p = model.power || {};
  const parts = [];
  if (model.offGrid) parts.push("Off grid");
  const battery = p.battery;
  if (model.hasBattery && battery !== null && battery !== undefined) {
    if (battery <= -IDLE_W) {
      const flows = splitFlows(p);
      parts.push(`Powerwall charging from ${flows.grid_battery > flows.solar_battery ? "the grid" : "solar"}`);
    } else if (battery >= IDLE_W) {
      parts.push((p.site || 0) <= -IDLE_W ? "Powerwall exporting to the grid" : "Powerwall powering the home");
    } else {
      parts.push("Powerwall idle");
    }
    if (model.soe !== null && model.soe !== undefined) parts.push(percent(model.soe));
    const load = p.load;
    if (model.energyRemaining !== null && model.energyRemaining !== undefined && load >= IDLE_W) {
      const hours = model.energyRemaining / load;
      parts.push(hours < 1 ? `${Math.round(hours * 60)} min of backup at the current load` : `${Math.round(hours)} h of backup at the current load`);
    }
  } else if (p.load !== null && p.load !== undefined) {
    parts.push(`Home using ${kw(p.load)}`);
  }
  if (!model.hasBattery && model.hasSolar && (p.solar || 0) >= IDLE_W) parts.push(`solar producing ${kw(p.solar)}`);
  return parts.length ? parts.join(" · ") : "No data";
}
