"""The human sentence of each event, from the values behind it (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def duration_text(seconds: float) -> str:
    """'40 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def backup_hours(remaining_wh: float | None, load_w: float | None) -> float | None:
    """How long the stored energy lasts at the current load (None: unknown or no load)."""
    if remaining_wh is None or load_w is None or load_w <= 0:
        return None
    return remaining_wh / load_w


def _percent(value: Any) -> str:
    return f"{value:.0f} %" if isinstance(value, (int, float)) else "an unknown level"


def _battery_clause(values: Mapping[str, Any]) -> str:
    """'Powerwall at 62 %, about 9 h of backup at the current load'."""
    text = f"Powerwall at {_percent(values.get('soe_percent'))}"
    hours = values.get("backup_hours")
    if isinstance(hours, (int, float)):
        text += f", about {hours:.0f} h of backup at the current load"
    return text


def _times(count: int) -> str:
    return f" (it went down {count} times)" if count > 1 else ""


def sentence(kind: str, name: str, values: Mapping[str, Any], count: int = 1) -> str:
    """The sentence for `kind` at the gateway (or site) called `name`."""
    duration = duration_text(float(values.get("duration_s") or 0.0))
    if kind == "grid_outage":
        return f"Grid outage at {name}: {_battery_clause(values)}"
    if kind == "grid_restored":
        return f"Grid restored at {name} after {duration}{_times(count)}"
    if kind == "gateway_offline":
        return f"{name} stopped answering: {values.get('error') or 'no answer'}"
    if kind == "auth_failed":
        return f"{name} refused the password: {values.get('hint') or 'check the credentials'}"
    if kind == "gateway_online":
        return f"{name} answers again after {duration}"
    if kind == "soe_low":
        below = _percent(values.get("threshold_percent"))
        return f"Battery low at {name}: {_battery_clause(values)} (below {below})"
    if kind == "soe_recovered":
        return f"Battery at {name} recovered: {_battery_clause(values)}"
    if kind == "battery_full":
        return f"Battery full at {name}: {_percent(values.get('soe_percent'))}"
    if kind == "alert_raised":
        return f"New alert at {name}: {values.get('alert')}"
    if kind == "alert_cleared":
        return f"Alert cleared at {name}: {values.get('alert')}"
    if kind == "firmware_changed":
        return f"Firmware of {name} changed from {values.get('old')} to {values.get('new')}"
    if kind == "transport_failover":
        return f"{name} switched from {values.get('preferred')} to {values.get('active')}"
    if kind == "transport_recovered":
        return f"{name} is back on {values.get('active')}"
    if kind in ("control_applied", "control_failed"):
        change = f"{values.get('what')} {values.get('old') or '?'} -> {values.get('new') or '?'}"
        return f"Control write at {name} {values.get('result')}: {change}"
    return f"{kind} at {name}"
