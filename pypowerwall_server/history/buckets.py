"""Local time buckets: hours, days, weeks, months and years in a gateway's time zone.

Hour buckets start on the local clock's hour (a zone at +5:30 has hours starting at :30
UTC). Days run from local midnight to local midnight, so a DST day has 23 or 25 hours.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Period = Literal["day", "week", "month", "year"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "year")


def hour_start(t: float, zone: ZoneInfo) -> int:
    """Epoch second at which the local hour holding `t` began."""
    shift = _offset(zone, int(t // 900))
    return int((t + shift) // 3600 * 3600 - shift)


@functools.lru_cache(maxsize=8192)
def _offset(zone: ZoneInfo, quarter: int) -> int:
    """The zone's UTC offset in seconds during a quarter hour (zones change offset only on
    quarter hours), cached: ingestion asks this for every reading."""
    offset = datetime.fromtimestamp(quarter * 900, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def hour_shares(start: float, end: float, zone: ZoneInfo) -> Iterator[tuple[int, float]]:
    """(hour start, fraction of [start, end) in that hour), in time order; fractions sum to 1."""
    span = end - start
    if span <= 0:
        yield hour_start(end, zone), 1.0
        return
    hour = hour_start(start, zone)
    while hour < end:
        following = hour_start(hour + 3600, zone)
        following = following if following > hour else hour + 3600
        overlap = min(end, following) - max(start, hour)
        if overlap > 0:
            yield hour, overlap / span
        hour = following


def local_midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def period_range(period: Period, day: date) -> tuple[date, date]:
    """First day of the period holding `day`, and the first day after it."""
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":  # Monday to Sunday
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    if period == "month":
        first = day.replace(day=1)
        return first, _next_month(first)
    first = date(day.year, 1, 1)
    return first, date(day.year + 1, 1, 1)


def bucket_bounds(period: Period, day: date, zone: ZoneInfo) -> list[tuple[float, float]]:
    """(start, end) epoch seconds of each bucket: a day's hours, a week's or a month's
    days, a year's months."""
    first, after = period_range(period, day)
    if period == "day":
        start, end = local_midnight(first, zone), local_midnight(after, zone)
        hours = []
        hour = start
        while hour < end:
            hours.append((hour, min(end, hour + 3600)))
            hour += 3600
        return hours
    edges: list[date] = []
    cursor = first
    while cursor < after:
        edges.append(cursor)
        cursor = cursor + timedelta(days=1) if period != "year" else _next_month(cursor)
    edges.append(after)
    return [
        (local_midnight(a, zone), local_midnight(b, zone)) for a, b in itertools.pairwise(edges)
    ]


def iso(t: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).isoformat(timespec="seconds")


def iso_utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)
