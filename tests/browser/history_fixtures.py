"""The server's history routes as the browser sees them (the shapes in docs/web-ui.md),
made here and served through Playwright's page.route, until the pages run against the real
history store; pages are marked as a server with history on marks them (data-history="on").
To swap: drop `serve_history(page)` from a test and start its site with history on; the
assertions compare the page with these same answers (`energy_answer` ...), which can as
well be read from the server with `Site.get`."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

TZ = UTC
HOURLY_HOME_WH = [
    400,
    350,
    330,
    320,
    330,
    420,
    700,
    900,
    800,
    650,
    600,
    620,
    640,
    600,
    580,
    650,
    900,
    1400,
    1600,
    1500,
    1200,
    900,
    700,
    500,
]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _bucket(start: datetime, end: datetime, scale: float, hour: int | None) -> dict[str, Any]:
    """A bucket whose numbers add up the way the meters do: home = solar + grid in +
    Powerwall out - grid out - Powerwall in."""
    h = 12 if hour is None else hour
    solar = max(0.0, math.sin((h - 6) / 12 * math.pi)) * 3200 * scale
    home = HOURLY_HOME_WH[h] * scale if hour is not None else 16000 * scale
    charge = min(solar * 0.4, 1500 * scale) if 9 <= h <= 14 else 0.0
    discharge = 900 * scale if h >= 18 or h <= 1 else 0.0
    export = max(0.0, solar - charge - home) * 0.8
    imported = max(0.0, home + charge + export - solar - discharge)
    from_grid = round(imported)
    self_powered = 100 * (1 - from_grid / home) if home else None
    return {
        "start": _iso(start),
        "end": _iso(end),
        "solar_wh": round(solar),
        "home_wh": round(home),
        "grid_import_wh": from_grid,
        "grid_export_wh": round(export),
        "battery_charge_wh": round(charge),
        "battery_discharge_wh": round(discharge),
        "self_powered_pct": None if self_powered is None else round(self_powered, 1),
        "cost": round(from_grid / 1000 * 0.30 - export / 1000 * 0.08, 2),
        "estimated": False,
        "complete": True,
    }


KEYS = (
    "solar_wh",
    "home_wh",
    "grid_import_wh",
    "grid_export_wh",
    "battery_charge_wh",
    "battery_discharge_wh",
    "cost",
)


def _totals(buckets: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {k: round(sum(b[k] for b in buckets), 2) for k in KEYS}
    home = totals["home_wh"]
    totals["self_powered_pct"] = (
        round(100 * (1 - totals["grid_import_wh"] / home), 1) if home else None
    )
    return totals


def energy_answer(period: str, day: date, gateway: str | None = None) -> dict[str, Any]:
    """What GET /api/history/energy answers for the period holding `day`."""
    start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    buckets: list[dict[str, Any]] = []
    if period == "day":
        buckets = [
            _bucket(start + timedelta(hours=h), start + timedelta(hours=h + 1), 1, h)
            for h in range(24)
        ]
        buckets[3]["estimated"] = True  # a gap the counters bridged: its hours are spread evenly
    elif period == "week":
        monday = start - timedelta(days=day.weekday())
        buckets = [
            _bucket(monday + timedelta(days=i), monday + timedelta(days=i + 1), 1 + i / 10, None)
            for i in range(7)
        ]
    elif period == "month":
        first = start.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        days = (following - first).days
        buckets = [
            _bucket(
                first + timedelta(days=i), first + timedelta(days=i + 1), 0.8 + (i % 5) / 10, None
            )
            for i in range(days)
        ]
    else:
        for month in range(12):
            first = datetime(day.year, month + 1, 1, tzinfo=TZ)
            nxt = datetime(day.year + (month == 11), month % 12 + 1, 1, tzinfo=TZ)
            buckets.append(
                _bucket(first, nxt, 30 * (0.6 + math.sin(month / 11 * math.pi) * 0.6), None)
            )
    return {
        "gateway": gateway,
        "timezone": "UTC",
        "period": period,
        "date": day.isoformat(),
        "buckets": buckets,
        "totals": _totals(buckets),
    }


def power_answer(start: datetime, end: datetime, step: int = 60) -> dict[str, Any]:
    points = []
    moment = start
    while moment < end:
        hour = moment.hour + moment.minute / 60
        solar = max(0.0, math.sin((hour - 6) / 12 * math.pi)) * 4200
        home = 600 + 900 * (17 <= hour <= 21)
        battery = -1500 if 9 <= hour <= 14 else 900 if hour >= 18 else 0
        site = home - solar - battery
        point: dict[str, Any] = {"t": _iso(moment), "grid_status": "up"}
        for key, value in (
            ("site_w", site),
            ("solar_w", solar),
            ("battery_w", battery),
            ("home_w", home),
        ):
            point[key] = {
                "mean": round(value, 1),
                "min": round(value - 50, 1),
                "max": round(value + 50, 1),
            }
        point["soe_pct"] = {"mean": 50 + 30 * math.sin(hour / 24 * math.pi), "min": 0, "max": 100}
        points.append(point)
        moment += timedelta(seconds=step)
    return {"gateway": None, "step": step, "points": points}


def outages_answer(start: datetime) -> dict[str, Any]:
    begin = start + timedelta(hours=14, minutes=5)
    return {
        "outages": [
            {
                "gateway": "home",
                "start": _iso(begin),
                "end": _iso(begin + timedelta(minutes=47)),
                "duration_s": 47 * 60,
                "battery_wh": 1830,
            }
        ]
    }


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def serve_history(page: Any, off: str | None = None) -> list[str]:
    """Answer the history routes from the functions above and mark the pages as history on;
    `off`: answer 503 with that reason instead and leave the pages unmarked, as a server
    with history off does. Returns the list the requested history URLs are appended to."""
    asked: list[str] = []

    def fulfill(route: Any, status: int, body: Any) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    def history(route: Any) -> None:
        url = urlparse(route.request.url)
        asked.append(route.request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if off is not None:
            return fulfill(route, 503, {"error": "history unavailable", "reason": off})
        gateway = query.get("gateway")
        if url.path.endswith("/energy"):
            return fulfill(
                route,
                200,
                # no date: the site's today, as the server answers
                energy_answer(query["period"], _day(query.get("date")), gateway),
            )
        start, end = _when(query["start"]), _when(query["end"])
        if url.path.endswith("/power"):
            return fulfill(route, 200, power_answer(start, end, int(query.get("step", 60))))
        return fulfill(route, 200, outages_answer(start))

    page.route("**/api/history/**", history)
    if off is None:  # the page as a server with history on renders it: data-history="on"
        page.add_init_script(MARK_HISTORY_ON)
    return asked


def _day(text: str | None) -> date:
    return date.fromisoformat(text) if text else datetime.now(UTC).date()  # "timezone": "UTC"


# Set as soon as the parser inserts <html>, before any module script runs.
MARK_HISTORY_ON = """new MutationObserver((changes, observer) => {
  if (!document.documentElement) return;
  document.documentElement.dataset.history = "on";
  observer.disconnect();
}).observe(document, {childList: true});"""
