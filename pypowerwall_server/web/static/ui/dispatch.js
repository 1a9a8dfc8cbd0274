// The console's battery dispatch panel (v1r gateways only): run the battery at a set power
// for a while, then it resumes its mode by itself; "Resume now" ends it early. A dispatch
// asks for confirmation first: it can drain the battery below the backup reserve and
// export to the grid. Signs as everywhere: positive W = discharge, negative W = charge.
// Self-contained (its own gateway choice); shares the control panel's session token.
import { apiUrl, el, getJson, kw } from "./common.js";

const TOKEN_KEY = "pps-control-token"; // the control panel's (control.js)
const REFRESH_MS = 5000;

export class DispatchPanel {
  constructor(section) {
    this.section = section;
    this.gateways = [];
    this.status = el("p", { id: "dispatch-status", class: "note", role: "status" });
    this.now = el("p", { id: "dispatch-now", class: "note" });
  }

  /** Shown only while control is on and some gateway writes over v1r. */
  async load() {
    const answer = await getJson("api/control");
    const overview = answer.ok ? answer.body : null;
    this.gateways = overview && overview.enabled
      ? Object.entries(overview.gateways).filter(([, g]) => g.controls.includes("dispatch")).map(([id]) => id)
      : [];
    this.section.hidden = this.gateways.length === 0;
    if (this.section.hidden) return;
    this.build();
    await this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  build() {
    this.gateway = el("select", { id: "dispatch-gateway" },
      ...this.gateways.map((id) => el("option", { value: id }, id)));
    this.gateway.addEventListener("change", () => this.refresh());
    this.power = el("input", { id: "dispatch-power", type: "number", step: 100, value: 3000 });
    this.minutes = el("input", { id: "dispatch-minutes", type: "number", min: 1, max: 1440, step: 1, value: 15 });
    const row = (label, input, note) => el("div", { class: "control-row" },
      el("label", { for: input.id }, label), input, note ? el("span", { class: "note" }, note) : null);
    this.section.replaceChildren(
      el("h2", null, "Battery dispatch"),
      el("p", { class: "note" },
        "Runs the battery at a set power (v1r only), overriding the backup reserve and the export rule, "
        + "then it returns to its mode by itself."),
      row("Gateway", this.gateway),
      row("Power (W)", this.power, "positive = discharge, negative = charge"),
      row("Duration (minutes)", this.minutes, "1 to 1440"),
      el("div", { class: "control-row" },
        el("button", { id: "dispatch-start", type: "button", onclick: () => this.start() }, "Dispatch…"),
        el("button", { id: "dispatch-resume", type: "button", onclick: () => this.send("resume", {}) }, "Resume now")),
      this.now,
      this.status,
    );
  }

  async refresh() {
    const id = encodeURIComponent(this.gateway.value);
    const answer = await getJson(`api/gateways/${id}/control/dispatch`);
    const d = answer.ok ? answer.body.dispatch : null;
    if (!d) this.now.textContent = "Dispatch state unknown.";
    else if (!d.active) this.now.textContent = "No dispatch running: the battery follows its mode.";
    else {
      const way = d.power_w > 0 ? "discharging" : d.power_w < 0 ? "charging" : "holding";
      const until = new Date(d.ends_at).toLocaleTimeString();
      this.now.textContent = `Dispatch running: ${way} at ${kw(d.power_w)} until ${until}.`;
    }
  }

  async start() {
    const power = Math.round(Number(this.power.value));
    const minutes = Math.round(Number(this.minutes.value));
    if (!Number.isFinite(power) || !(minutes >= 1 && minutes <= 1440)) {
      this.say("Give a power in W and 1 to 1440 minutes.", true);
      return;
    }
    const way = power > 0 ? `discharge at ${power} W` : power < 0 ? `charge at ${-power} W` : "hold at 0 W";
    const question = `${way} for ${minutes} min on ${this.gateway.value}?\n\n`
      + "This overrides the backup reserve and the export rule: a discharge can drain the battery "
      + "below the backup reserve and export to the grid; a charge can draw from the grid.";
    if (!window.confirm(question)) {
      this.say("Not sent.");
      return;
    }
    await this.send("dispatch", { power_w: power, duration_s: minutes * 60 });
  }

  async send(name, body) {
    let token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      token = window.prompt("Control token (kept for this browser session)") || "";
      if (!token) return this.say("A control token is needed.", true);
      sessionStorage.setItem(TOKEN_KEY, token);
    }
    const id = encodeURIComponent(this.gateway.value);
    const response = await fetch(apiUrl(`api/gateways/${id}/control/${name}`), {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    if (!response.ok) this.say(`${name}: ${answer.detail || answer.error || answer.unauthorized || `HTTP ${response.status}`}`, true);
    else {
      const part = Object.values(answer.parts || {})[0] || {};
      const measured = part.read_back === null || part.read_back === undefined ? "" : `; battery now ${part.read_back} W`;
      this.say(`${name} ${answer.status}${measured}`);
    }
    await this.refresh();
  }

  say(text, bad = false) {
    this.status.textContent = text;
    this.status.dataset.state = bad ? "bad" : "ok";
  }
}

const section = document.getElementById("dispatch");
if (section) new DispatchPanel(section).load();
