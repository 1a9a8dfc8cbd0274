// Shared helpers: URLs relative to this file (works under any reverse-proxy prefix), safe
// DOM building (text only, never HTML), theme and look, and the live data source.

/** The server root, e.g. "https://host/powerwall/": this file lives in <root>/ui/. */
export const ROOT = new URL("../", import.meta.url);

export function apiUrl(path) {
  return new URL(path, ROOT).href;
}

/** A WebSocket URL for a path under the root: ws:// for http pages, wss:// behind HTTPS. */
export function wsUrl(path) {
  const url = new URL(path, ROOT);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** Build an element; every string child becomes a text node (gateway data is never HTML). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function kw(watts) {
  if (watts === null || watts === undefined || Number.isNaN(watts)) return "–";
  return `${(Math.abs(watts) / 1000).toFixed(1)} kW`;
}

/** Energy in kWh, one decimal (two below 10 kWh). */
export function kwh(wh) {
  if (wh === null || wh === undefined || Number.isNaN(wh)) return "–";
  const k = wh / 1000;
  return `${Math.abs(k) < 10 ? k.toFixed(2) : k.toFixed(1)} kWh`;
}

/** The words the Tesla app uses for the gateway's setting values. */
export const WORDS = {
  self_consumption: "Self-Powered", autonomous: "Time-Based Control", backup: "Backup",
  battery_ok: "Everything", pv_only: "Solar only", never: "No export",
};
export function words(value) {
  return value === null || value === undefined ? "–" : WORDS[value] || String(value);
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value)} %`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export const params = new URLSearchParams(location.search);

// --- theme (auto follows the system; the choice is kept in this browser) and look -------
const THEMES = ["auto", "dark", "light"];
const STYLES = ["clear", "black", "white", "grafana", "grafana-dark", "solar", "dakboard"];

export function setupLook() {
  const root = document.documentElement;
  const style = (params.get("style") || root.dataset.style || "").toLowerCase();
  if (STYLES.includes(style)) {
    root.classList.add(`style-${style}`);
    root.classList.add("styled"); // the style's own palette, whatever the OS theme
    if (window.top === window) root.classList.add("standalone"); // not framed: its backdrop
  }
  keepLookInLinks();
  const saved = params.get("theme") || localStorage.getItem("pps-theme") || "auto";
  applyTheme(THEMES.includes(saved) ? saved : "auto");
  const button = document.getElementById("theme-toggle");
  if (button) {
    button.addEventListener("click", () => {
      const next = THEMES[(THEMES.indexOf(root.dataset.theme || "auto") + 1) % THEMES.length];
      localStorage.setItem("pps-theme", next);
      applyTheme(next);
    });
  }
}

/** Same-site links and the site switcher keep ?style= and ?theme= (an embed stays itself). */
export function lookQuery() {
  const kept = new URLSearchParams();
  for (const key of ["style", "theme", "kiosk"]) if (params.get(key)) kept.set(key, params.get(key));
  return kept;
}

function keepLookInLinks() {
  const kept = lookQuery();
  kept.delete("kiosk");
  if (![...kept].length) return;
  for (const link of document.querySelectorAll("a[href]")) {
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.endsWith("docs") || url.pathname.endsWith("redoc")) continue;
    for (const [k, v] of kept) url.searchParams.set(k, v);
    link.href = url.href;
  }
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme-toggle");
  if (button) button.textContent = `Theme: ${theme}`;
}

export async function getJson(path) {
  const response = await fetch(apiUrl(path), { cache: "no-store" });
  const body = await response.json().catch(() => null);
  // a reason here: the gateway never provides this data (the body is the proxy's empty one)
  const unavailable = response.headers.get("x-data-unavailable");
  return { ok: response.ok && !unavailable, status: response.status, body, unavailable };
}

// --- live data: a WebSocket stream, REST polling while the stream cannot be opened -------
const HEARTBEAT_LIMIT_MS = 15000; // the server sends something at least every 10 s
const FIRST_DATA_MS = 6000; // the server sends the current state as soon as a stream opens
const POLL_MS = 5000;

/**
 * Calls onData(data, ageOf) with each full state; ageOf(serverTime) is that time's age in
 * seconds now, from the message's own send time (the browser's clock need not agree with
 * the server's). onLink(kind) reports "ws", "polling" or "down".
 */
export class LiveSource {
  constructor(streamPath, poll, onData, onLink) {
    this.streamPath = streamPath;
    this.poll = poll; // async () => {data, ts, snapshot_ts}
    this.onData = onData;
    this.onLink = onLink;
    this.failures = 0;
    this.socket = null;
    this.pollTimer = null;
    this.retryTimer = null;
    this.watchdog = null;
    this.link = "";
    this.everFailed = false;
  }

  start() {
    this.connect();
  }

  setLink(kind) {
    if (kind !== this.link) {
      this.link = kind;
      this.onLink(kind);
    }
  }

  connect() {
    clearTimeout(this.retryTimer);
    let socket;
    try {
      socket = new WebSocket(wsUrl(this.streamPath));
    } catch {
      this.failed();
      return;
    }
    this.socket = socket;
    let delivered = false;
    socket.onopen = () => this.kick(FIRST_DATA_MS); // open is not enough: data must follow
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.v !== 1) return;
      if (message.type === "heartbeat") {
        if (delivered) this.kick(HEARTBEAT_LIMIT_MS);
        return;
      }
      if (!delivered) {
        delivered = true; // a stream that works: forget earlier failures, stop polling
        this.failures = 0;
        this.stopPolling();
        this.setLink("ws");
      }
      this.kick(HEARTBEAT_LIMIT_MS);
      this.deliver(message);
    };
    socket.onclose = (event) => {
      clearTimeout(this.watchdog);
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4404) {
        this.setLink("unknown");
        return; // unknown gateway: nothing to retry
      }
      this.failed();
    };
  }

  /** The stream could not be opened, stayed silent or was lost: poll the REST API until
   * a stream works again (the poll, not the stream, says whether the server is down). */
  failed() {
    this.failures += 1;
    this.everFailed = true;
    this.startPolling();
    this.scheduleRetry();
  }

  kick(limitMs) {
    clearTimeout(this.watchdog);
    const socket = this.socket;
    this.watchdog = setTimeout(() => {
      if (this.socket !== socket || !socket) return;
      this.socket = null; // silent too long: give it up, poll, and try a new one later
      socket.onclose = null;
      socket.close();
      this.failed();
    }, limitMs);
  }

  scheduleRetry() {
    const delay = Math.min(30000, 1000 * 2 ** Math.min(this.failures, 5));
    const jitter = Math.random() * 0.3 * delay;
    this.retryTimer = setTimeout(() => this.connect(), delay + jitter);
  }

  deliver(message) {
    const received = Date.now() / 1000;
    // A server time's age now: its age when the message was sent, plus the time since.
    const ageOf = (t) => (t === null || t === undefined ? null : message.ts - t + (Date.now() / 1000 - received));
    this.onData(message.data, ageOf);
  }

  startPolling() {
    if (this.pollTimer) return;
    this.setLink("polling");
    const tick = async () => {
      try {
        const message = await this.poll();
        if (message && this.pollTimer) {
          this.setLink("polling");
          this.deliver(message);
        }
      } catch {
        this.setLink("down");
      }
    };
    this.pollTimer = setInterval(tick, POLL_MS);
    tick();
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
