"""Text formats the gateway's firmware (written in Go) uses in its JSON answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pypowerwall_server.simulator.state import MeterState

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def _local(t: float, timezone: str) -> datetime:
    return datetime.fromtimestamp(t, ZoneInfo(timezone))


def _offset(moment: datetime, colon: bool) -> str:
    text = moment.strftime("%z")  # "-0700"
    return f"{text[:3]}:{text[3:]}" if colon else text


def go_timestamp(t: float, timezone: str) -> str:
    """RFC 3339 with nanoseconds, e.g. "2021-10-17T07:23:34.290637169-07:00"."""
    moment = _local(t, timezone)
    nanos = round((t - int(t)) * 1e9) % 1_000_000_000
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}{_offset(moment, colon=True)}"


def go_start_time(t: float, timezone: str) -> str:
    """/api/status start_time, e.g. "2024-03-11 09:12:41 +0800"."""
    moment = _local(t, timezone)
    return f"{moment:%Y-%m-%d %H:%M:%S} {_offset(moment, colon=False)}"


def go_duration(seconds: float) -> str:
    """A Go time.Duration string, e.g. "127h34m16.275122187s"."""
    seconds = max(0.0, seconds)
    hours, rest = divmod(seconds, 3600.0)
    minutes, secs = divmod(rest, 60.0)
    if hours >= 1:
        return f"{int(hours)}h{int(minutes)}m{secs:.9f}s"
    if minutes >= 1:
        return f"{int(minutes)}m{secs:.9f}s"
    return f"{secs:.9f}s"


def meter_fields(reading: MeterState) -> dict[str, Any]:
    """The power/energy fields every gateway meter reading carries, in the gateway's order
    (aggregates and /api/meters/site alike)."""
    return {
        "instant_power": reading.instant_power_w,
        "instant_reactive_power": reading.instant_reactive_power_var,
        "instant_apparent_power": reading.instant_apparent_power_va,
        "frequency": reading.frequency_hz,
        "energy_exported": reading.energy_exported_wh,
        "energy_imported": reading.energy_imported_wh,
        "instant_average_voltage": reading.instant_average_voltage_v,
        "instant_average_current": reading.instant_average_current_a,
    }
