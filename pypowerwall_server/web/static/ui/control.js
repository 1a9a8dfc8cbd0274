// The console's control panel: reserve, mode, export rule, grid charging, reserve hold and
// (v1r) off-grid for the selected gateway. It says what the gateway holds: after a write it
// follows the gateway's read-back until it shows the value asked for, or says it did not.
// Controls are disabled while a write is in flight and while the gateway is offline.
// Hidden when control is off (GET api/control). The token is kept for this browser session.
import { apiUrl, el, getJson, percent, words } from "./common.js";

const TOKEN_KEY = "pps-control-token";
const MODES = ["self_consumption", "autonomous", "backup"];
const EXPORTS = ["battery_ok", "pv_only", "never"];
const FOLLOW_EVERY_MS = 2000;
const FOLLOW_LIMIT_S = 75; // the server looks again 2, 10 and 30 s after a pending write
const CONFIRM = {
  off_grid: "Disconnect this site from the grid? The home runs on the Powerwall until you reconnect.",
  reconnect: "Reconnect this site to the grid?",
};

/** Whether the read-back shows what a write asked for. */
function shows(name, state, value) {
  switch (name) {
    case "reserve": return typeof state.reserve === "number" && Math.abs(state.reserve - value) < 0.5;
    case "mode": return state.mode === value;
    case "grid_export": return state.grid_export === value;
    case "grid_charging": return state.grid_charging === value;
    case "off_grid": return state.grid_connected === false;
    case "reconnect": return state.grid_connected === true;
    default: return true;
  }
}

function shown(name, state) {
  switch (name) {
    case "reserve": return percent(state.reserve);
    case "grid_charging": return state.grid_charging === null || state.grid_charging === undefined ? "–" : state.grid_charging ? "on" : "off";
    case "off_grid": case "reconnect": return state.grid_connected === false ? "off grid" : state.grid_connected ? "connected" : "–";
    default: return words(state[name]);
  }
}

export class ControlPanel {
  constructor(section, onWritten = () => {}) {
    this.section = section;
    this.onWritten = onWritten;
    this.overview = null;
    this.gateway = "";
    this.readBack = {};
    this.inputs = [];
    this.busy = false;
    this.offline = false;
    this.status = el("p", { id: "control-status", class: "note", role: "status" });
  }

  async load() {
    const answer = await getJson("api/control");
    this.overview = answer.ok ? answer.body : null;
    this.section.hidden = !(this.overview && this.overview.enabled);
  }

  /** Build the panel for a gateway (once per selection; later calls refresh the values). */
  async show(gatewayId, listed) {
    if (!this.overview || !this.overview.enabled) return;
    const offline = Boolean(listed) && (!listed.online || listed.stale);
    if (gatewayId === this.gateway) {
      this.setOffline(offline, "the gateway is offline");
      return this.refresh();
    }
    this.gateway = gatewayId;
    this.inputs = [];
    const info = this.overview.gateways[gatewayId];
    const heading = el("h2", null, `Control · ${listed ? listed.name || gatewayId : gatewayId}`);
    if (!info || !info.transport) {
      this.section.replaceChildren(heading, el("p", { class: "note" },
        "This gateway is read-only: give it rsa_key_path (v1r), or configure its site as a FleetAPI or cloud gateway."));
      return;
    }
    const state = await this.current();
    const maxReserve = info.transport === "v1r" ? 100 : 80;
    const reserve = this.input(el("input", { id: "control-reserve", type: "range", min: 0, max: maxReserve, step: 1 }));
    reserve.value = String(Math.min(maxReserve, Math.round(state.reserve ?? 0)));
    const reserveShown = el("output", { id: "control-reserve-value", for: "control-reserve" }, `${reserve.value} %`);
    reserve.addEventListener("input", () => { reserveShown.textContent = `${reserve.value} %`; });
    const mode = this.input(choice("control-mode", MODES, state.mode));
    const exportRule = this.input(choice("control-export", EXPORTS, state.grid_export));
    const charging = this.input(el("input", { id: "control-grid-charging", type: "checkbox", role: "switch" }));
    charging.checked = state.grid_charging === true;
    charging.addEventListener("change", () => this.write("grid_charging", charging.checked));
    this.readBack = {};
    for (const name of ["reserve", "mode", "grid_export", "grid_charging", "off_grid"]) this.readBack[name] = el("span", { id: `now-${name}` });
    const row = (label, input, action, name) => el("div", { class: "control-row" },
      el("label", { for: input.id }, label), input, action, el("span", { class: "now" }, "gateway shows: ", this.readBack[name]));
    const rows = [
      row("Backup reserve", reserve, el("span", null, reserveShown, " ",
        this.button("control-reserve-set", "Set reserve", () => this.write("reserve", Number(reserve.value)))), "reserve"),
      row("Mode", mode, this.button("control-mode-set", "Set mode", () => this.write("mode", mode.value)), "mode"),
      row("Grid export", exportRule, this.button("control-export-set", "Set export", () => this.write("grid_export", exportRule.value)), "grid_export"),
      row("Grid charging", charging, null, "grid_charging"),
      el("div", { class: "control-row" },
        this.button("control-hold", "Hold the current charge", () => this.write("reserve_hold", null)),
        el("span", { class: "note" }, "sets the reserve to the charge now")),
    ];
    if ((info.controls || []).includes("off_grid")) {
      rows.push(el("div", { class: "control-row" },
        this.button("control-off-grid", "Go off grid", () => this.write("off_grid", null)),
        this.button("control-reconnect", "Reconnect to the grid", () => this.write("reconnect", null)),
        el("span", { class: "now" }, "grid: ", this.readBack.off_grid)));
    }
    this.section.replaceChildren(
      heading,
      this.tokenRow(),
      el("p", { class: "note" }, `Writes over ${info.transport}; each shows what the gateway reads back.`),
      ...rows,
      this.status,
    );
    this.showReadBack(state);
    this.setOffline(offline, "the gateway is offline");
  }

  input(node) {
    this.inputs.push(node);
    return node;
  }

  button(id, label, action) {
    return this.input(el("button", { id, type: "button", onclick: action }, label));
  }

  /** Disable the controls while offline or busy; cached values are marked as such. */
  setOffline(offline, why) {
    this.offline = offline;
    this.section.classList.toggle("offline", offline);
    this.offlineWhy = offline ? why : "";
    this.enable();
  }

  enable() {
    for (const node of this.inputs) node.disabled = this.busy || this.offline;
    if (this.offline) this.say(`Controls disabled: ${this.offlineWhy}; the values shown are the last known.`, true);
    else if (this.status.dataset.offline) this.say("");
    this.status.dataset.offline = this.offline ? "1" : "";
  }

  async refresh() {
    if (this.gateway && this.readBack.reserve && !this.offline) this.showReadBack(await this.current());
  }

  async current() {
    const answer = await getJson(`api/gateways/${encodeURIComponent(this.gateway)}/control`);
    return answer.ok ? answer.body : {};
  }

  showReadBack(state) {
    for (const [name, node] of Object.entries(this.readBack)) node.textContent = shown(name, state);
  }

  tokenRow() {
    const input = el("input", { id: "control-token", type: "password", autocomplete: "off" });
    this.tokenBox = el("div", { class: "control-row", hidden: sessionStorage.getItem(TOKEN_KEY) ? true : null },
      el("label", { for: "control-token" }, "Control token (kept for this session)"), input,
      el("button", { id: "control-token-use", type: "button", onclick: () => {
        if (!input.value) return;
        sessionStorage.setItem(TOKEN_KEY, input.value);
        input.value = "";
        this.tokenBox.hidden = true;
        this.say("Token kept for this browser session.");
      } }, "Use token"));
    return this.tokenBox;
  }

  async write(name, value) {
    if (this.busy || this.offline) return;
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      this.tokenBox.hidden = false;
      this.say("Enter the control token first.", true);
      return;
    }
    if (CONFIRM[name] && !window.confirm(CONFIRM[name])) return;
    const gateway = this.gateway;
    this.busy = true;
    this.enable();
    try {
      this.say(`Writing ${name.replace("_", " ")}…`);
      const response = await fetch(apiUrl(`api/gateways/${encodeURIComponent(gateway)}/control/${name}`), {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(value === null ? {} : { value }),
        cache: "no-store",
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        this.tokenBox.hidden = false;
        this.say("The token was refused; enter it again.", true);
      } else if (!response.ok) {
        this.say(`${name}: ${body.detail || body.error || `HTTP ${response.status}`}`, true);
      } else if (Object.values(body.parts || {}).some((p) => p.status === "pending")) {
        await this.follow(gateway, name, value);
      } else if (Object.values(body.parts || {}).some((p) => p.status === "capped")) {
        // e.g. a cloud reserve above 80 %: sent, and the gateway holds less; say so
        this.say(Object.entries(body.parts).map(([part, p]) =>
          `${part} ${p.status}${p.detail ? ` (${p.detail})` : ""}`).join(", "), true);
      } else {
        this.say(`${name} applied`);
      }
    } catch {
      this.say(`${name}: the server did not answer; the write may or may not have been made.`, true);
    } finally {
      this.busy = false;
      this.enable();
    }
    await this.refresh();
    this.onWritten();
  }

  /** The gateway accepted a write but does not show it yet: look until it does, or give up. */
  async follow(gateway, name, value) {
    const started = Date.now();
    for (;;) {
      const waited = Math.round((Date.now() - started) / 1000);
      const state = await this.current();
      if (gateway !== this.gateway) return;
      this.showReadBack(state);
      if (shows(name, state, value)) {
        this.say(`${name} applied: the gateway shows ${shown(name, state)} (after ${waited} s)`);
        return;
      }
      if (waited >= FOLLOW_LIMIT_S) {
        this.say(`${name} not shown after ${waited} s: the gateway still shows ${shown(name, state)}`, true);
        return;
      }
      this.say(`${name} accepted; waiting for the gateway to show it (${waited} s)…`);
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
    }
  }

  say(text, bad = false) {
    this.status.textContent = text;
    this.status.dataset.state = bad ? "bad" : "ok";
  }
}

function choice(id, choices, current) {
  const node = el("select", { id }, ...choices.map((c) => el("option", { value: c }, words(c))));
  if (current && choices.includes(current)) node.value = current;
  return node;
}
