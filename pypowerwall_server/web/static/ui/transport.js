// How a gateway is read (its `transport` in /api/gateways): the active transport, whether it
// is a fallback and since when, each transport's state and next recovery probe, degraded data.
import { duration, el } from "./common.js";

function clock(epoch) {
  return new Date(epoch * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

const MAX_ERROR_SHOWN = 140; // characters of a transport's error in the card (all of it on hover)

function shortened(text) {
  return text.length > MAX_ERROR_SHOWN ? `${text.slice(0, MAX_ERROR_SHOWN)}…` : text;
}

function badge(text, title) {
  return el("span", { class: "badge warn", title }, text);
}

/** A gateway's several transports, or the one mode of a single-mode gateway. */
function chained(g) {
  return g.transport && g.transport.transports.length > 1 ? g.transport : null;
}

/** The console table's Transport cell: the active one, and a badge when it is a fallback. */
export function transportCell(g) {
  const t = chained(g);
  if (!t) return [g.transport ? g.transport.active : g.mode];
  if (!t.on_fallback) return [t.active];
  return [t.active, " ", badge("fallback", `preferred: ${t.preferred}`), el("br"), el("span", { class: "note" }, `prefers ${t.preferred}`)];
}

/** A badge for the State cell when the newest data cannot be right for the site. */
export function degradedBadge(g) {
  const reason = g.transport && g.transport.degraded_reason;
  return g.degraded ? badge("degraded", reason || "degraded data") : null;
}

function linkLine(link, t, now) {
  const parts = [`${link.name}: `];
  if (link.state === "ok") parts.push(el("span", { class: "state-ok" }, link.name === t.active ? "ok, serving" : "ok"));
  else if (link.state === "untried") parts.push(el("span", { class: "note" }, "not tried yet"));
  else {
    const since = link.failing_since ? ` since ${clock(link.failing_since)} (${duration(now - link.failing_since)})` : "";
    parts.push(el("span", { class: "state-bad" }, `failing${since}`));
  }
  if (link.next_probe) {
    const wait = link.next_probe - now;
    parts.push(`; next probe ${clock(link.next_probe)} (${wait > 0 ? `in ${duration(wait)}` : "due"})`);
  }
  if (link.state !== "ok" && link.last_error) parts.push(el("br"), el("span", { class: "note", title: link.last_error }, shortened(link.last_error)));
  return el("li", null, ...parts);
}

/** The detail's Transport card, or null when there is nothing to say beyond the mode. */
export function transportCard(g, now = Date.now() / 1000) {
  const t = g.transport;
  if (!t || (!chained(g) && !g.degraded)) return null;
  const active = t.on_fallback
    ? [el("strong", null, t.active), " ", badge("fallback", `preferred: ${t.preferred}`),
      t.active_since ? ` since ${clock(t.active_since)} (${duration(now - t.active_since)})` : ""]
    : [el("strong", null, t.active), chained(g) ? " (preferred)" : ""];
  const rows = [el("p", { class: "transport-active" }, "Active: ", ...active)];
  if (t.degraded) {
    rows.push(el("p", { class: "degraded-reason" }, badge("degraded", "the newest data cannot be right for this site"), " ", t.degraded_reason || ""));
  }
  if (chained(g)) {
    rows.push(el("ul", { class: "transport-links" }, ...t.transports.map((link) => linkLine(link, t, now))));
    rows.push(el("p", { class: "note" }, `Failovers: ${t.failovers} · recoveries: ${t.recoveries}`));
  }
  return el("div", { class: t.on_fallback || t.degraded ? "card transport warn" : "card transport" }, el("h3", null, "Transport"), ...rows);
}
