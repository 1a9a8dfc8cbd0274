// The power-flow drawing: four nodes around a centre, animated lines, our own SVG.
import { kw, percent } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const IDLE_W = 20; // below this a line is drawn idle
const C = { x: 240, y: 190 };
const R = 38;
const NODES = {
  solar: { x: 240, y: 58, name: "Solar", nameY: -48 },
  grid: { x: 62, y: 190, name: "Grid", nameY: 56 },
  home: { x: 418, y: 190, name: "Home", nameY: 56 },
  battery: { x: 240, y: 322, name: "Powerwall", nameY: 64 },
};
// Each line is drawn in the direction a positive value flows (API signs): solar producing,
// grid importing and battery discharging flow to the centre; a consuming home from it.
const LINES = {
  solar: { d: `M240,${58 + R} L240,${C.y}`, label: [250, 132, "start"] },
  grid: { d: `M${62 + R},190 L${C.x},190`, label: [170, 178, "middle"] },
  home: { d: `M${C.x},190 L${418 - R},190`, label: [310, 178, "middle"] },
  battery: { d: `M240,${322 - R} L240,${C.y}`, label: [250, 256, "start"] },
};
const ICONS = {
  solar: "M-9,0a9,9 0 1,0 18,0a9,9 0 1,0 -18,0M0,-17v-4M0,17v4M-17,0h-4M17,0h4M-12,-12l-3,-3M12,12l3,3M-12,12l-3,3M12,-12l3,-3",
  grid: "M-10,18L-4,-18H4L10,18M-7,4H7M-9,12H9M-14,-10H14M-5,-10L5,4M5,-10L-5,4",
  home: "M-16,0L0,-15L16,0M-11,-4V16H11V-4M-4,16V6H4V16",
};

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.append(node);
  return node;
}

export class FlowView {
  constructor(container) {
    this.root = svg("svg", {
      viewBox: "16 -12 448 412",
      role: "img",
      "aria-label": "Power flow between solar, Powerwall, home and grid",
      id: "flow-svg",
    });
    this.lines = {};
    this.labels = {};
    this.nodes = {};
    for (const [key, spec] of Object.entries(LINES)) {
      const group = svg("g", { id: `flow-${key}` }, this.root);
      svg("path", { d: spec.d, class: "flow-line base" }, group);
      this.lines[key] = svg("path", { d: spec.d, class: "flow-line idle", id: `line-${key}` }, group);
      const [x, y, anchor] = spec.label;
      this.labels[key] = svg("text", { x, y, class: "flow-label", id: `label-${key}` }, group);
      this.labels[key].style.textAnchor = anchor;
    }
    svg("circle", { cx: C.x, cy: C.y, r: 5, class: "flow-centre", fill: "currentColor" }, this.root);
    for (const [key, spec] of Object.entries(NODES)) this.nodes[key] = this.node(key, spec);
    container.replaceChildren(this.root);
  }

  node(key, spec) {
    const group = svg("g", { id: `node-${key}`, class: "flow-node", transform: `translate(${spec.x},${spec.y})` }, this.root);
    if (key === "battery") {
      svg("circle", { r: R + 8, class: "soe-track" }, group);
      this.ring = svg("circle", { r: R + 8, class: "soe-ring", transform: "rotate(-90)", id: "soe-ring" }, group);
      const length = 2 * Math.PI * (R + 8);
      this.ringLength = length;
      this.ring.setAttribute("stroke-dasharray", `0 ${length}`);
    }
    svg("circle", { r: R, class: "disc" }, group);
    if (key === "battery") {
      this.soeText = svg("text", { y: 7, class: "soe-text", id: "soe-text" }, group);
    } else {
      svg("path", { d: ICONS[key], class: "icon" }, group);
    }
    const name = svg("text", { y: spec.nameY, class: "name" }, group);
    name.textContent = spec.name;
    if (key === "grid") {
      svg("path", { d: "M-30,-30L30,30M30,-30L-30,30", class: "grid-cross" }, group);
      const off = svg("text", { y: 74, class: "off-grid-text", id: "off-grid-text" }, group);
      off.textContent = "Off grid";
    }
    return group;
  }

  /** model: {power: {site, battery, load, solar}, soe, hasSolar, hasBattery, offGrid} */
  render(model) {
    const p = model.power || {};
    this.line("solar", p.solar, model.hasSolar);
    this.line("grid", p.site, true);
    this.line("home", p.load, true);
    this.line("battery", p.battery, model.hasBattery);
    this.show("solar", model.hasSolar);
    this.show("battery", model.hasBattery);
    this.root.classList.toggle("off-grid", Boolean(model.offGrid));
    const soe = model.soe;
    this.soeText.textContent = percent(soe);
    this.soeText.dataset.percent = soe === null || soe === undefined ? "" : String(soe);
    const filled = soe === null || soe === undefined ? 0 : (Math.max(0, Math.min(100, soe)) / 100) * this.ringLength;
    this.ring.setAttribute("stroke-dasharray", `${filled} ${this.ringLength}`);
  }

  show(key, visible) {
    const display = visible ? "inline" : "none";
    this.nodes[key].setAttribute("display", display);
    document.getElementById(`flow-${key}`).setAttribute("display", display);
  }

  line(key, watts, visible) {
    const line = this.lines[key];
    const label = this.labels[key];
    const known = visible && watts !== null && watts !== undefined;
    const size = known ? Math.abs(watts) : 0;
    const moving = known && size >= IDLE_W;
    line.classList.toggle("moving", moving);
    line.classList.toggle("idle", !moving);
    line.classList.toggle("reverse", moving && watts < 0);
    // Bigger power, faster dots: 2.4 s per dash cycle near zero, 0.35 s at 10 kW and above.
    line.style.animationDuration = moving ? `${Math.max(0.35, 2.4 - Math.log10(size) * 0.55).toFixed(2)}s` : "";
    label.textContent = known ? kw(watts) : "–";
    label.dataset.watts = known ? String(watts) : "";
    label.classList.toggle("idle", !moving);
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
      const fromSolar = (p.solar || 0) >= -battery - IDLE_W || (p.site || 0) < IDLE_W;
      parts.push(`Powerwall charging from ${fromSolar ? "solar" : "the grid"}`);
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
