"""Reads of the history file, shaped as the API answers them (run on a reader thread).

Energy is summed from the hourly buckets into the asked period's buckets (a day's hours, a
week's or month's days, a year's months) in the given time zone. Without a gateway the
buckets are the site total: every gateway's energy summed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pypowerwall_server.history.buckets import Period, bucket_bounds, iso
from pypowerwall_server.history.counters import CHANNELS
from pypowerwall_server.history.power import QUANTITIES
from pypowerwall_server.history.tariff import Tariff

ENERGY_KEYS = tuple(f"{channel}_wh" for channel in CHANNELS)
_IMPORT, _EXPORT = CHANNELS.index("grid_import"), CHANNELS.index("grid_export")


@dataclass(frozen=True, slots=True)
class EnergyQuery:
    gateways: Sequence[str]
    zone: ZoneInfo
    period: Period
    day: date
    tariff: Tariff | None = None


def _marks(items: Sequence[object]) -> str:
    return ", ".join("?" for _ in items)


def energy(conn: sqlite3.Connection, q: EnergyQuery) -> dict[str, Any]:
    bounds = bucket_bounds(q.period, q.day, q.zone)
    sums = ", ".join(f"SUM({c})" for c in CHANNELS)
    rows = conn.execute(
        f"SELECT hour, {sums}, MAX(estimated) FROM energy_hour "
        f"WHERE gateway IN ({_marks(q.gateways)}) AND hour >= ? AND hour < ? GROUP BY hour "
        "ORDER BY hour",
        (*q.gateways, bounds[0][0], bounds[-1][1]),
    ).fetchall()
    latest = _latest(conn, q.gateways)
    buckets = [_Bucket(start, end, latest) for start, end in bounds]
    index = 0
    for hour, *values, estimated in rows:
        while buckets[index].end <= hour:
            index += 1
        buckets[index].add(values, bool(estimated), _hour_cost(q, hour, values))
    total = _Bucket(bounds[0][0], bounds[-1][1], latest)
    for bucket in buckets:
        total.merge(bucket)
    totals = total.as_dict(q.zone)
    for key in ("start", "end", "estimated", "complete"):
        totals.pop(key)
    return {
        "period": q.period,
        "date": q.day.isoformat(),
        "buckets": [bucket.as_dict(q.zone) for bucket in buckets],
        "totals": totals,
    }


def _hour_cost(q: EnergyQuery, hour: int, values: list[float]) -> tuple[float, float] | None:
    if q.tariff is None:
        return None
    local = datetime.fromtimestamp(hour, q.zone)
    return q.tariff.cost(local, values[_IMPORT], values[_EXPORT])


def _latest(conn: sqlite3.Connection, gateways: Sequence[str]) -> float | None:
    """The oldest of the gateways' newest readings: buckets ending before it are complete."""
    rows = conn.execute(
        f"SELECT MAX(t) FROM counters_last WHERE gateway IN ({_marks(gateways)}) GROUP BY gateway",
        tuple(gateways),
    ).fetchall()
    return min(row[0] for row in rows) if len(rows) == len(gateways) else None


class _Bucket:
    def __init__(self, start: float, end: float, latest: float | None) -> None:
        self.start, self.end = start, end
        self.values: list[float] | None = None
        self.estimated = False
        self.cost: tuple[float, float] | None = None
        self.complete = latest is not None and end <= latest

    def add(self, values: list[float], estimated: bool, cost: tuple[float, float] | None) -> None:
        self.values = [
            a + b for a, b in zip(self.values or [0.0] * len(values), values, strict=True)
        ]
        self.estimated |= estimated
        if cost is not None:
            old = self.cost or (0.0, 0.0)
            self.cost = (old[0] + cost[0], old[1] + cost[1])

    def merge(self, other: _Bucket) -> None:
        if other.values is not None:
            self.add(other.values, other.estimated, other.cost)

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        body: dict[str, Any] = {"start": iso(self.start, zone), "end": iso(self.end, zone)}
        values = self.values
        for i, key in enumerate(ENERGY_KEYS):
            body[key] = None if values is None else round(values[i], 3)
        body.update(_derived(values))
        body["import_cost"] = _money(self.cost[0]) if self.cost else None
        body["export_credit"] = _money(self.cost[1]) if self.cost else None
        body["cost"] = _money(self.cost[0] - self.cost[1]) if self.cost else None
        body["estimated"] = self.estimated
        body["complete"] = self.complete
        return body


def _money(value: float) -> float:
    return round(value, 4)


def _derived(values: list[float] | None) -> dict[str, float | None]:
    """Self-powered % (home energy not taken from the grid) and solar offset (solar energy
    over home energy), as the Tesla app shows them."""
    if values is None:
        return {"self_powered_pct": None, "solar_offset_pct": None}
    solar, home, grid_import = values[0], values[1], values[2]
    if home <= 0:
        return {"self_powered_pct": None, "solar_offset_pct": None}
    self_powered = 100.0 * (1.0 - min(grid_import, home) / home)
    return {
        "self_powered_pct": round(self_powered, 1),
        "solar_offset_pct": round(100.0 * solar / home, 1),
    }


def power(
    conn: sqlite3.Connection, gateways: Sequence[str], start: float, end: float, step: int
) -> list[dict[str, Any]]:
    """Points of `step` seconds (a multiple of 60; hourly rows when a multiple of 3600).
    The site total sums means, minima and maxima of power (so min/max are bounds) and
    averages state of energy."""
    table = "power_hour" if step % 3600 == 0 else "power_minute"
    stat_columns = [f"{q}_{s}" for q in QUANTITIES for s in ("mean", "min", "max")]
    picks = ", ".join(f"{'AVG' if c.startswith('soe') else 'SUM'}({c})" for c in stat_columns)
    rows = conn.execute(
        f"SELECT (t / ?) * ? AS slot, {picks}, MIN(grid_status) FROM {table} "
        f"WHERE gateway IN ({_marks(gateways)}) AND t >= ? AND t < ? "
        "GROUP BY t ORDER BY t",
        (step, step, *gateways, start, end),
    ).fetchall()
    return _merge_slots(rows)


def _merge_slots(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One point per slot: the rows (one per step of the table) inside it averaged."""
    slots: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        slots.setdefault(int(row[0]), []).append(row)
    points = []
    for slot, members in slots.items():
        point: dict[str, Any] = {"t": slot}
        for i, name in enumerate(QUANTITIES):
            means = [m[1 + 3 * i] for m in members if m[1 + 3 * i] is not None]
            lows = [m[2 + 3 * i] for m in members if m[2 + 3 * i] is not None]
            highs = [m[3 + 3 * i] for m in members if m[3 + 3 * i] is not None]
            key = "soe_pct" if name == "soe" else f"{name}_w"
            point[key] = (
                {"mean": sum(means) / len(means), "min": min(lows), "max": max(highs)}
                if means
                else None
            )
        statuses = {m[-1] for m in members if m[-1] is not None}
        point["grid_status"] = "down" if "down" in statuses else ("up" if statuses else None)
        points.append(point)
    return points


def outages(
    conn: sqlite3.Connection, gateways: Sequence[str], start: float, end: float, limit: int
) -> list[tuple[Any, ...]]:
    """(gateway, start, end, battery_wh) of outages overlapping [start, end)."""
    return conn.execute(
        f'SELECT gateway, start, "end", battery_wh FROM outages WHERE gateway IN '
        f'({_marks(gateways)}) AND start < ? AND ("end" IS NULL OR "end" > ?) '
        "ORDER BY start LIMIT ?",
        (*gateways, end, start, limit),
    ).fetchall()


def gaps(
    conn: sqlite3.Connection, gateways: Sequence[str], start: float, end: float, limit: int
) -> list[tuple[Any, ...]]:
    """(gateway, kind, start, end) of offline periods and gaps overlapping [start, end)."""
    return conn.execute(
        f'SELECT gateway, kind, start, "end" FROM gaps WHERE gateway IN ({_marks(gateways)}) '
        'AND start < ? AND ("end" IS NULL OR "end" > ?) ORDER BY start LIMIT ?',
        (*gateways, end, start, limit),
    ).fetchall()
