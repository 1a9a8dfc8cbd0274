// The console's event list (events/ on the server): the newest events from /api/events,
// then live ones from /ws/events; notification delivery from /health. Plugged into the
// console page by one <section id="events"> and one <script> tag.
import { apiUrl, el, wsUrl } from "./common.js";

const SHOWN = 50; // events listed, newest first
const RETRY_MS = 5000; // reconnect delay of the live stream
const HEALTH_MS = 10000;

const section = document.getElementById("events");
// Scrolls: focusable, so a keyboard can scroll it too (axe: scrollable-region-focusable).
const list = el("ol", { class: "events-list", id: "events-list", tabindex: "0", "aria-label": "Recent events" });
const delivery = el("p", { class: "note", id: "events-delivery" });
let events = [];
let lastId = 0;

function timeText(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function row(event) {
  return el(
    "li",
    { class: `event severity-${event.severity}`, "data-kind": event.kind },
    el("time", { datetime: event.time }, timeText(event.time)),
    el("span", { class: "event-kind" }, event.kind.replaceAll("_", " ")),
    el("span", { class: "event-message" }, event.message),
  );
}

function render() {
  if (!events.length) {
    list.replaceChildren(el("li", { class: "note" }, "No events yet."));
    return;
  }
  list.replaceChildren(...events.slice(-SHOWN).reverse().map(row));
}

function add(event) {
  if (event.id <= lastId) return;
  events.push(event);
  events = events.slice(-SHOWN);
  lastId = event.id;
  render();
}

async function load() {
  const response = await fetch(apiUrl(`api/events?limit=${SHOWN}`));
  if (!response.ok) return;
  const body = await response.json();
  body.events.forEach(add);
  lastId = Math.max(lastId, body.last_id);
  render();
}

function follow() {
  const socket = new WebSocket(wsUrl(`ws/events?since=${lastId}`));
  socket.addEventListener("message", (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type !== "event") return;
    add(frame.data);
    setTimeout(showDelivery, 1000); // its notification is on its way
  });
  socket.addEventListener("close", () => setTimeout(follow, RETRY_MS));
}

async function showDelivery() {
  const response = await fetch(apiUrl("health"));
  const notifications = (await response.json()).events?.notifications;
  if (!notifications) {
    delivery.textContent = "Notifications: off (PW_NOTIFY_URLS not set).";
    return;
  }
  const parts = notifications.urls.map((u) =>
    `${u.url}: ${u.failing ? `failing (${u.last_error})` : "ok"}, ${u.sent} sent, ${u.failed} failed`,
  );
  delivery.textContent = `Notifications: ${parts.join("; ")}`;
  delivery.classList.toggle("state-bad", notifications.urls.some((u) => u.failing));
}

if (section) {
  section.replaceChildren(el("h2", null, "Events"), delivery, list);
  section.hidden = false;
  render();
  load().then(follow, follow);
  showDelivery();
  setInterval(showDelivery, HEALTH_MS);
}
