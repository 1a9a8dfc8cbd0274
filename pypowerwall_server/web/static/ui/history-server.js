// The server's own history (when it keeps one): whether it is on, and its 1-minute power as
// the points the flow page's charts draw ([t, site, battery, load, solar, soe], like the
// browser's own history in history.js).
import { getJson } from "./common.js";

/** Whether the server keeps history: the page says so (data-history="on", set by the web
 * layer from the server's settings), so finding out costs no request. */
export function serverHistoryOn() {
  return document.documentElement.dataset.history === "on";
}

export function gatewayQuery(gatewayId) {
  return gatewayId ? `&gateway=${encodeURIComponent(gatewayId)}` : "";
}

const mean = (v) => (v && typeof v.mean === "number" ? v.mean : null);

/** Power points between two times (epoch s) from /api/history/power, or null when refused. */
export async function serverPower(start, end, gatewayId, step = 60) {
  const iso = (t) => new Date(t * 1000).toISOString();
  const answer = await getJson(`api/history/power?start=${iso(start)}&end=${iso(end)}&step=${step}${gatewayQuery(gatewayId)}`);
  if (!answer.ok || !answer.body || !Array.isArray(answer.body.points)) return null;
  return answer.body.points.map((p) => [Date.parse(p.t) / 1000, mean(p.site_w), mean(p.battery_w), mean(p.home_w), mean(p.solar_w), mean(p.soe_pct)]);
}
