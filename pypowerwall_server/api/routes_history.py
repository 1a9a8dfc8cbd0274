"""/api/history/*: energy buckets, power over time, outages, offline periods and control
writes from the history store, as JSON or CSV (format=csv). Thin: the work is in
history/queries.py and history/api_params.py; a store that is off or broken answers 503."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from starlette.responses import Response

from pypowerwall_server.api.deps import ServicesDep
from pypowerwall_server.api.openapi_responses import error
from pypowerwall_server.history import csv_text, queries
from pypowerwall_server.history.api_params import (
    MAX_ROWS,
    BadParameter,
    power_range,
    time_range,
)
from pypowerwall_server.history.buckets import iso
from pypowerwall_server.history.reports import energy_report, outage
from pypowerwall_server.history.service import HistoryService
from pypowerwall_server.history.store import HistoryUnavailable
from pypowerwall_server.http.answer import error_answer, json_answer
from pypowerwall_server.services import AppServices

router = APIRouter(prefix="/api/history", tags=["history"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
    400: error("bad date, time, period, step or format; or a range too large for one answer"),
    404: error("unknown gateway id"),
    503: error("history is off or broken: `reason` says why"),
}
GatewayParam = Annotated[str | None, Query(description="a gateway id; without it, the site total")]
FormatParam = Annotated[str, Query(alias="format", description="json or csv")]
StartParam = Annotated[str, Query(description="ISO 8601 time (no offset: the local time)")]
EndParam = Annotated[str, Query(description="ISO 8601 time, after start")]


@router.get("")
def history_status(services: ServicesDep) -> Response:
    """Whether history is on and working, each gateway's time zone, and the retention."""
    history = _history(services)
    server = services.settings.server
    body = {
        **history.status(),
        "timezones": {gid: str(zone) for gid, zone in history.zones.items()},
        "site_timezone": str(history.site_zone),
        "minute_power_days": server.history_days,
        "tariff": history.tariff is not None,
    }
    return json_answer(body).to_response()


@router.get("/energy", responses=_ERRORS)
async def energy(
    services: ServicesDep,
    period: Annotated[str, Query(description="day, week, month or year")] = "day",
    date: Annotated[str | None, Query(description="YYYY-MM-DD (default: today)")] = None,
    gateway: GatewayParam = None,
    output: FormatParam = "json",
) -> Response:
    """Energy in Wh of a day (hour buckets), week or month (day buckets) or year (month
    buckets) in the gateway's time zone (the site total: the default gateway's), from the
    gateways' lifetime counters. `estimated`: some of a bucket's energy was spread over
    hours it may not belong to (a gap) or is missing (a counter reset); `complete`: the
    bucket is over and read. Cost needs a tariff (docs/history.md)."""
    try:
        body = await energy_report(_history(services), period, date, gateway, output)
    except (BadParameter, HistoryUnavailable) as exc:
        return _refused(exc)
    if output == "csv":
        return _csv(csv_text.energy(body))
    return json_answer(body).to_response()


@router.get("/power", responses=_ERRORS)
async def power(
    services: ServicesDep,
    start: StartParam,
    end: EndParam,
    step: Annotated[int, Query(description="seconds per point, a multiple of 60")] = 60,
    gateway: GatewayParam = None,
    output: FormatParam = "json",
) -> Response:
    """Site, solar, battery and home power (W) and state of energy (app scale %) per step:
    mean, min and max, and whether the grid was up. One-minute points are kept for
    PW_HISTORY_DAYS, hourly ones (step a multiple of 3600) for ever. The site total sums
    the gateways' power (its min and max are bounds) and averages state of energy."""
    history = _history(services)
    try:
        ids, zone, t0, t1 = power_range(history, start, end, step, gateway, output, MAX_ROWS)
        points = await history.read(lambda c: queries.power(c, ids, t0, t1, step))
    except (BadParameter, HistoryUnavailable) as exc:
        return _refused(exc)
    for point in points:
        point["t"] = iso(point["t"], zone)
    if output == "csv":
        return _csv(csv_text.power(points))
    return json_answer({"gateway": gateway, "step": step, "points": points}).to_response()


@router.get("/outages", responses=_ERRORS)
async def outages(
    services: ServicesDep,
    start: StartParam,
    end: EndParam,
    gateway: GatewayParam = None,
    output: FormatParam = "json",
) -> Response:
    """Grid outages overlapping the range: start, end (null while it lasts), duration and
    the energy the Powerwall supplied during it (Wh, from its discharge counter)."""
    now = services.hub.clock()
    ask = _Listing("outages", queries.outages, lambda row, zone: outage(row, zone, now))
    return await ask.answer(_history(services), start, end, gateway, output)


@router.get("/gaps", responses=_ERRORS)
async def gaps(
    services: ServicesDep,
    start: StartParam,
    end: EndParam,
    gateway: GatewayParam = None,
    output: FormatParam = "json",
) -> Response:
    """Periods a gateway was offline (kind "offline") or gave no reading for over 10
    minutes, the server's own downtime included (kind "gap")."""

    def shape(row: Row, zone: ZoneInfo) -> dict[str, Any]:
        gid, kind, began, ended = row
        end_text = iso(ended, zone) if ended is not None else None
        return {"gateway": gid, "kind": kind, "start": iso(began, zone), "end": end_text}

    ask = _Listing("gaps", queries.gaps, shape)
    return await ask.answer(_history(services), start, end, gateway, output)


@router.get("/control", responses=_ERRORS)
async def control_writes(
    services: ServicesDep,
    start: StartParam,
    end: EndParam,
    gateway: GatewayParam = None,
    output: FormatParam = "json",
) -> Response:
    """Control writes from the audit trail (time, gateway, what, old, new, result), kept
    for ever; the audit read route keeps only the last ones in memory."""

    def shape(row: Row, zone: ZoneInfo) -> dict[str, Any]:
        keys = ("gateway", "what", "old", "new", "result")
        return {"time": iso(row[0], zone), **dict(zip(keys, row[1:], strict=True))}

    ask = _Listing("writes", queries.control_writes, shape)
    return await ask.answer(_history(services), start, end, gateway, output)


Row = tuple[Any, ...]
ListQuery = Callable[[sqlite3.Connection, Sequence[str], float, float, int], list[Row]]


@dataclass(frozen=True)
class _Listing:
    """A list of periods or events in a time range: the rows of `query`, each shaped."""

    key: str
    query: ListQuery
    shape: Callable[[Row, ZoneInfo], dict[str, Any]]

    async def answer(
        self, history: HistoryService, start: str, end: str, gateway: str | None, output: str
    ) -> Response:
        try:
            ids, zone, t0, t1 = time_range(history, start, end, gateway, output)
            rows = await history.read(lambda c: self.query(c, ids, t0, t1, MAX_ROWS))
        except (BadParameter, HistoryUnavailable) as exc:
            return _refused(exc)
        found = [self.shape(row, zone) for row in rows]
        if output == "csv":
            return _csv(csv_text.rows(found))
        return json_answer({self.key: found}).to_response()


def _history(services: AppServices) -> HistoryService:
    history = services.history
    if history is None:  # an app built without create_app
        raise RuntimeError("history service missing")
    return history


def _refused(exc: BadParameter | HistoryUnavailable) -> Response:
    if isinstance(exc, HistoryUnavailable):
        body = {"error": "history unavailable", "reason": exc.reason}
        return json_answer(body, 503).to_response()
    return error_answer(exc.status, exc.message).to_response()


def _csv(text: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8")
