"""The history answers that more than one reader gives (the HTTP routes and the MCP tools):
the same shapes, decided once."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pypowerwall_server.history import queries
from pypowerwall_server.history.api_params import MAX_ROWS, energy_query, time_range
from pypowerwall_server.history.buckets import iso
from pypowerwall_server.history.service import HistoryService

Row = tuple[Any, ...]


async def energy_report(
    history: HistoryService, period: str, day: str | None, gateway: str | None, output: str
) -> dict[str, Any]:
    """Energy buckets (Wh) of a day, week, month or year: BadParameter for a bad argument,
    HistoryUnavailable when the store is off or broken."""
    query = energy_query(history, period, day, gateway, output)
    body = await history.read(lambda c: queries.energy(c, query))
    return {"gateway": gateway, "timezone": str(query.zone), **body}


def outage(row: Row, zone: ZoneInfo, now: float) -> dict[str, Any]:
    """One grid outage; an outage that lasts has no end and a duration up to `now`."""
    gid, began, ended, wh = row
    return {
        "gateway": gid,
        "start": iso(began, zone),
        "end": iso(ended, zone) if ended is not None else None,
        "duration_s": round((ended if ended is not None else now) - began, 1),
        "battery_wh": round(wh, 3) if wh is not None else None,
    }


async def outage_report(
    history: HistoryService, start: str, end: str, gateway: str | None
) -> dict[str, Any]:
    """Grid outages overlapping a range (JSON answer of /api/history/outages)."""
    ids, zone, t0, t1 = time_range(history, start, end, gateway, "json")
    rows = await history.read(lambda c: queries.outages(c, ids, t0, t1, MAX_ROWS))
    now = history.hub.clock()
    return {"outages": [outage(row, zone, now) for row in rows]}
