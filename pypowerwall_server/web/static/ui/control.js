// The console's control panel: reserve, mode, export rule, grid charging and reserve hold
// for the selected gateway, each with the value the gateway shows now and the state of the
// last write (applied / pending / failed). Hidden when control is off (GET api/control).
// The token is asked for once and kept for this browser session only (sessionStorage).
import { apiUrl, el, getJson, percent } from "./common.js";

const TOKEN_KEY = "pps-control-token";
const MODES = ["self_consumption", "backup", "autonomous"];
const EXPORTS = ["battery_ok", "pv_only", "never"];

export class ControlPanel {
  constructor(section, onWritten = () => {}) {
    this.section = section;
    this.onWritten = onWritten;
    this.overview = null;
    this.gateway = "";
    this.readBack = {};
    this.status = el("p", { id: "control-status", class: "note", role: "status" });
  }

  /** Whether control is on and what each gateway can write; hides the panel when off. */
  async load() {
    const answer = await getJson("api/control");
    this.overview = answer.ok ? answer.body : null;
    this.section.hidden = !(this.overview && this.overview.enabled);
  }

  /** Build the panel for a gateway (once per selection; refresh() updates the values). */
  async show(gatewayId) {
    if (!this.overview || !this.overview.enabled) return;
    if (gatewayId === this.gateway) return this.refresh();
    this.gateway = gatewayId;
    const info = this.overview.gateways[gatewayId];
    const heading = el("h2", null, `Control · ${gatewayId}`);
    if (!info || !info.transport) {
      this.section.replaceChildren(heading, el("p", { class: "note" },
        "This gateway is read-only: give it rsa_key_path (v1r), or configure its site as a FleetAPI or cloud gateway."));
      return;
    }
    const state = await this.current();
    const maxReserve = info.transport === "v1r" ? 100 : 80;
    const reserve = el("input", { id: "control-reserve", type: "range", min: 0, max: maxReserve, step: 1 });
    reserve.value = String(Math.min(maxReserve, Math.round(state.reserve ?? 0)));
    const reserveShown = el("output", { id: "control-reserve-value" }, `${reserve.value} %`);
    reserve.addEventListener("input", () => { reserveShown.textContent = `${reserve.value} %`; });
    const mode = select("control-mode", MODES, state.mode);
    const exportRule = select("control-export", EXPORTS, state.grid_export);
    const charging = el("input", { id: "control-grid-charging", type: "checkbox", role: "switch" });
    charging.checked = state.grid_charging === true;
    charging.addEventListener("change", () => this.write("grid_charging", charging.checked));
    this.readBack = {
      reserve: el("span", { id: "now-reserve" }), mode: el("span", { id: "now-mode" }),
      grid_export: el("span", { id: "now-grid_export" }), grid_charging: el("span", { id: "now-grid_charging" }),
    };
    const row = (label, input, action, now) => el("div", { class: "control-row" },
      el("label", { for: input.id }, label), input, action, el("span", { class: "note" }, "now: ", now));
    this.section.replaceChildren(
      heading,
      el("p", { class: "note" }, `Writes over ${info.transport}; each answer shows what the gateway reads back.`),
      row("Backup reserve", reserve, el("span", null, reserveShown, " ",
        button("control-reserve-set", "Set", () => this.write("reserve", Number(reserve.value)))), this.readBack.reserve),
      row("Mode", mode, button("control-mode-set", "Set", () => this.write("mode", mode.value)), this.readBack.mode),
      row("Grid export", exportRule,
        button("control-export-set", "Set", () => this.write("grid_export", exportRule.value)), this.readBack.grid_export),
      row("Grid charging", charging, null, this.readBack.grid_charging),
      el("div", { class: "control-row" },
        button("control-hold", "Hold the current charge", () => this.write("reserve_hold", null)),
        el("span", { class: "note" }, "reserve = state of energy now")),
      this.tokenRow(),
      this.status,
    );
    this.showReadBack(state);
  }

  async refresh() {
    if (this.gateway && this.readBack.reserve) this.showReadBack(await this.current());
  }

  async current() {
    const answer = await getJson(`api/gateways/${encodeURIComponent(this.gateway)}/control`);
    return answer.ok ? answer.body : {};
  }

  showReadBack(state) {
    this.readBack.reserve.textContent = percent(state.reserve);
    this.readBack.mode.textContent = state.mode ?? "–";
    this.readBack.grid_export.textContent = state.grid_export ?? "–";
    this.readBack.grid_charging.textContent = state.grid_charging === undefined || state.grid_charging === null
      ? "–" : state.grid_charging ? "on" : "off";
  }

  tokenRow() {
    const input = el("input", { id: "control-token", type: "password", autocomplete: "off", placeholder: "control token" });
    this.tokenBox = el("div", { class: "control-row", hidden: sessionStorage.getItem(TOKEN_KEY) ? true : null },
      el("label", { for: "control-token" }, "Token (kept for this session)"), input,
      button("control-token-use", "Use", () => {
        if (!input.value) return;
        sessionStorage.setItem(TOKEN_KEY, input.value);
        input.value = "";
        this.tokenBox.hidden = true;
        this.say("Token kept for this browser session.");
      }));
    return this.tokenBox;
  }

  async write(name, value) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      this.tokenBox.hidden = false;
      this.say("Enter the control token first.", true);
      return;
    }
    this.say(`Writing ${name}…`);
    const response = await fetch(apiUrl(`api/gateways/${encodeURIComponent(this.gateway)}/control/${name}`), {
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
      return;
    }
    if (!response.ok) {
      this.say(`${name}: ${body.detail || body.error || `HTTP ${response.status}`}`, true);
    } else {
      const parts = Object.entries(body.parts || {}).map(([part, p]) =>
        `${part} ${p.status}${p.status === "pending" || p.status === "capped" ? ` (${p.detail})` : ""}`);
      this.say(parts.join(", "));
    }
    await this.refresh();
    this.onWritten();
  }

  say(text, bad = false) {
    this.status.textContent = text;
    this.status.dataset.state = bad ? "bad" : "ok";
  }
}

function select(id, choices, current) {
  const node = el("select", { id }, ...choices.map((c) => el("option", { value: c }, c)));
  if (current && choices.includes(current)) node.value = current;
  return node;
}

function button(id, label, action) {
  return el("button", { id, type: "button", onclick: action }, label);
}
