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
from pypowerwall_server.settings.tariff import Tariff

ENERGY_KEYS = tuple(f"{channel}_wh" for channel in CHANNELS)
_POINT_KEYS = tuple("soe_pct" if q == "soe" else f"{q}_w" for q in QUANTITIES)


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
    latest = _latest(conn, q.gateways)
    buckets = [_Bucket(start, end, latest) for start, end in bounds]
    for index, *values, estimated in _bucket_sums(conn, q.gateways, bounds):
        buckets[index].add(values, bool(estimated), None)
    if q.tariff is not None:
        _add_costs(conn, q, buckets)
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


def _bucket_sums(
    conn: sqlite3.Connection, gateways: Sequence[str], bounds: Sequence[tuple[float, float]]
) -> list[tuple[Any, ...]]:
    """(bucket index, summed channels..., any estimated) of each bucket with energy, summed
    by SQLite (a year is 8,760 hours per gateway: too many to add up in Python)."""
    values = ", ".join("(?, ?, ?)" for _ in bounds)
    sums = ", ".join(f"SUM(h.{c})" for c in CHANNELS)
    return conn.execute(
        f"WITH b(i, s, e) AS (VALUES {values}) "
        f"SELECT b.i, {sums}, MAX(h.estimated) FROM b JOIN energy_hour h "
        f"ON h.hour >= b.s AND h.hour < b.e WHERE h.gateway IN ({_marks(gateways)}) "
        "GROUP BY b.i",
        (*(x for i, (a, z) in enumerate(bounds) for x in (i, a, z)), *gateways),
    ).fetchall()


def _add_costs(conn: sqlite3.Connection, q: EnergyQuery, buckets: list[_Bucket]) -> None:
    """Cost needs each hour's price: grid energy hour by hour, priced, added to buckets."""
    rows = conn.execute(
        f"SELECT hour, SUM(grid_import), SUM(grid_export) FROM energy_hour "
        f"WHERE gateway IN ({_marks(q.gateways)}) AND hour >= ? AND hour < ? GROUP BY hour "
        "ORDER BY hour",
        (*q.gateways, buckets[0].start, buckets[-1].end),
    ).fetchall()
    index = 0
    for hour, imported, exported in rows:
        while buckets[index].end <= hour:
            index += 1
        buckets[index].add_cost(_hour_cost(q, hour, imported, exported))


def _hour_cost(q: EnergyQuery, hour: int, imported: float, exported: float) -> tuple[float, float]:
    assert q.tariff is not None
    return q.tariff.cost(datetime.fromtimestamp(hour, q.zone), imported, exported)


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
        self.add_cost(cost)

    def add_cost(self, cost: tuple[float, float] | None) -> None:
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
    table_step = 3600 if table == "power_hour" else 60
    columns = [f"{q}_{s}" for q in QUANTITIES for s in ("mean", "min", "max")]
    if len(gateways) == 1:
        picks, grouping = ", ".join(columns) + ", grid_status", ""
    else:
        picks = ", ".join(f"{'AVG' if c.startswith('soe') else 'SUM'}({c})" for c in columns)
        picks, grouping = picks + ", MIN(grid_status)", "GROUP BY t"
    rows = conn.execute(
        f"SELECT t, {picks} FROM {table} WHERE gateway IN ({_marks(gateways)}) "
        f"AND t >= ? AND t < ? {grouping} ORDER BY t",
        (*gateways, start, end),
    ).fetchall()
    if step == table_step:
        return [_point(row[0], [row]) for row in rows]
    slots: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        slots.setdefault(int(row[0] // step * step), []).append(row)
    return [_point(slot, members) for slot, members in slots.items()]


def _point(t: int, members: list[tuple[Any, ...]]) -> dict[str, Any]:
    """One point from the rows (one per step of the table) inside its slot."""
    point: dict[str, Any] = {"t": t}
    for i, key in enumerate(_POINT_KEYS):
        at = 1 + 3 * i
        if len(members) == 1:
            mean, low, high = members[0][at : at + 3]
            point[key] = None if mean is None else {"mean": mean, "min": low, "max": high}
            continue
        means = [m[at] for m in members if m[at] is not None]
        point[key] = (
            {
                "mean": sum(means) / len(means),
                "min": min(m[at + 1] for m in members if m[at + 1] is not None),
                "max": max(m[at + 2] for m in members if m[at + 2] is not None),
            }
            if means
            else None
        )
    statuses = {m[-1] for m in members if m[-1] is not None}
    point["grid_status"] = "down" if "down" in statuses else ("up" if statuses else None)
    return point


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


def control_writes(
    conn: sqlite3.Connection, gateways: Sequence[str], start: float, end: float, limit: int
) -> list[tuple[Any, ...]]:
    """(t, gateway, what, old, new, result) of control writes in [start, end)."""
    return conn.execute(
        f"SELECT t, gateway, what, old, new, result FROM control_writes WHERE gateway IN "
        f"({_marks(gateways)}) AND t >= ? AND t < ? ORDER BY t LIMIT ?",
        (*gateways, start, end, limit),
    ).fetchall()
