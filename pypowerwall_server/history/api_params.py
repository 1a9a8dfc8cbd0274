"""The history routes' query parameters checked and turned into queries: a bad one is a
400 with a message naming it; an unknown gateway a 404; a range too large for one answer
is refused (answers stay bounded in memory)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pypowerwall_server.history.buckets import PERIODS
from pypowerwall_server.history.queries import EnergyQuery
from pypowerwall_server.history.service import HistoryService
from pypowerwall_server.untrusted import printable

FORMATS = ("json", "csv")
MAX_RANGE = timedelta(days=3660)  # outages and gaps: ten years per answer
MAX_STEP = 366 * 86400
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)

MAX_ROWS = 10_000  # rows or points in one answer: bounded memory


class BadParameter(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def gateways(history: HistoryService, gateway: str | None) -> tuple[tuple[str, ...], ZoneInfo]:
    """The gateways a query sums, and the time zone of its buckets."""
    if gateway is None:
        return tuple(history.zones), history.site_zone
    if gateway not in history.zones:
        raise BadParameter(f"unknown gateway id '{printable(gateway, 100)}'", 404)
    return (gateway,), history.zones[gateway]


def energy_query(
    history: HistoryService, period: str, day: str | None, gateway: str | None, output: str
) -> EnergyQuery:
    _check_format(output)
    ids, zone = gateways(history, gateway)
    if period not in PERIODS:
        raise BadParameter(f"period: must be one of {', '.join(PERIODS)}")
    if day is None:
        when = datetime.now(zone).date()
    else:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise BadParameter("date: must be a date YYYY-MM-DD") from None
        if not EARLIEST <= when <= LATEST:
            raise BadParameter(f"date: must be from {EARLIEST} to {LATEST}")
    return EnergyQuery(ids, zone, period, when, history.tariff)


def time_range(
    history: HistoryService, start: str, end: str, gateway: str | None, output: str
) -> tuple[tuple[str, ...], ZoneInfo, float, float]:
    _check_format(output)
    ids, zone = gateways(history, gateway)
    t0, t1 = _time("start", start, zone), _time("end", end, zone)
    if t1 <= t0:
        raise BadParameter("end: must be after start")
    if t1 - t0 > MAX_RANGE.total_seconds():
        raise BadParameter(f"range too large: at most {MAX_RANGE.days} days per answer")
    return ids, zone, t0, t1


def power_range(
    history: HistoryService,
    start: str,
    end: str,
    step: int,
    gateway: str | None,
    output: str,
    max_points: int,
) -> tuple[tuple[str, ...], ZoneInfo, float, float]:
    if step < 60 or step % 60 or step > MAX_STEP:
        raise BadParameter(f"step: must be a multiple of 60 seconds, at most {MAX_STEP}")
    ids, zone, t0, t1 = time_range(history, start, end, gateway, output)
    if (t1 - t0) / step > max_points:
        raise BadParameter(
            f"range too large: at most {max_points} points per answer (a larger step helps)"
        )
    return ids, zone, t0, t1


def _time(name: str, text: str, zone: ZoneInfo) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"{name}: must be an ISO 8601 time, e.g. 2026-07-01T00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not EARLIEST <= moment.date() <= LATEST:
        raise BadParameter(f"{name}: must be from {EARLIEST} to {LATEST}")
    return moment.timestamp()


def _check_format(output: str) -> None:
    if output not in FORMATS:
        raise BadParameter("format: must be json or csv")
