"""Library calls that are pure functions of polled gateway answers, computed the way
pypowerwall 0.22.2 computes them (so the poller fetches each gateway answer once).

Where the library would raise on malformed input (its caller, the proxy, then got None),
these return None.
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.jsonfmt import dumps_indent4
from pypowerwall_server.legacy.view import CallView

AGGREGATES = "poll('/api/meters/aggregates')"
SOE = "poll('/api/system_status/soe')"
GRID_STATUS = "poll('/api/system_status/grid_status')"
SYSTEM_STATUS = "poll('/api/system_status')"
STATUS = "poll('/api/status')"
SITE_NAME = "poll('/api/site_info/site_name')"
OPERATION = "poll('/api/operation')"
SOLAR_POWERWALL = "poll('/api/solar_powerwall')"

_GRID_MAP: dict[str, tuple[str, int]] = {
    "SystemGridConnected": ("UP", 1),
    "SystemIslandedActive": ("DOWN", 0),
    "SystemTransitionToGrid": ("SYNCING", -1),
    "SystemTransitionToIsland": ("SYNCING", -1),
    "SystemIslandedReady": ("SYNCING", -1),
    "SystemMicroGridFaulted": ("DOWN", 0),
    "SystemWaitForUser": ("DOWN", 0),
}
# The Tesla app hides the bottom 5 %: app scale = raw / 0.95 - 5 / 0.95 (library's order).
_APP_SCALE = 0.95


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def level(view: CallView, scale: bool = False) -> Any:
    payload = view.get(SOE)
    if not isinstance(payload, dict) or "percentage" not in payload:
        return None
    percent = payload["percentage"]
    if not scale:
        return percent
    if not is_number(percent):
        return None
    return (percent / _APP_SCALE) - (5 / _APP_SCALE)


def grid_status(view: CallView, output: str) -> Any:
    """`grid_status('string'|'numeric'|'json')`."""
    payload = view.get(GRID_STATUS)
    if payload is None:
        return None
    if output == "json":
        return dumps_indent4(payload)
    state = payload.get("grid_status") if isinstance(payload, dict) else None
    mapped = _GRID_MAP.get(state) if isinstance(state, str) else None
    if mapped is None:
        return None
    return mapped[0] if output == "string" else mapped[1]


def get_reserve(view: CallView) -> Any:
    """App-scaled reserve; `max(0, ...)` keeps the library's int 0 for values <= 0."""
    data = view.get(OPERATION)
    if not isinstance(data, dict) or data.get("backup_reserve_percent") is None:
        return None
    try:
        percent = float(data["backup_reserve_percent"])
    except (TypeError, ValueError):
        return None
    return max(0, float((percent / _APP_SCALE) - (5 / _APP_SCALE)))


def get_mode(view: CallView) -> Any:
    data = view.get(OPERATION)
    if isinstance(data, dict) and data.get("real_mode"):
        return data["real_mode"]
    return None


def status_field(view: CallView, key: str) -> Any:
    """`version()`, `din()`, `uptime()`: one key of /api/status, None if absent."""
    payload = view.get(STATUS)
    if isinstance(payload, dict):
        return payload.get(key)
    return None


def is_connected(view: CallView) -> bool:
    return view.get(STATUS) is not None


def site_name(view: CallView) -> Any:
    payload = view.get(SITE_NAME)
    return payload.get("site_name") if isinstance(payload, dict) else None


def section(view: CallView, name: str) -> Any:
    """`site(verbose=True)` and friends: one section of the meter aggregates."""
    payload = view.get(AGGREGATES)
    if isinstance(payload, dict) and payload and name in payload:
        return payload[name]
    return None


def power(view: CallView) -> dict[str, Any]:
    """`power()`: instant powers, 0.0 from the first missing section on (as the library,
    which stops reading at the first error)."""
    result: dict[str, Any] = {"site": 0.0, "solar": 0.0, "battery": 0.0, "load": 0.0}
    payload = view.get(AGGREGATES)
    for name in result:
        block = payload.get(name) if isinstance(payload, dict) else None
        if not isinstance(block, dict) or "instant_power" not in block:
            break
        result[name] = block["instant_power"]
    return result


def parse_version(version: Any) -> int | None:
    """pypowerwall's parse_version: text before the first space, digits and . / \\ kept,
    padded to three fields, fields weighted by powers of 100 from the right."""
    if not isinstance(version, str):
        return None
    text = "".join(c for c in version.split(" ")[0] if c.isdigit() or c in "./\\")
    while len(text.split(".")) < 3:
        text += ".0"
    try:
        fields = [int(part, 10) for part in text.split(".")]
    except ValueError:
        return None
    total, weight = 0, 1
    for value in reversed(fields):
        total += value * weight
        weight *= 100
    return total
