"""A gateway's current control settings from its Snapshot's call results (keyed by the
library call names the poller uses), so the supervisor can answer `control_state()` from
memory. The slow tier must include CONTROL_CALLS for every gateway that can write."""

from __future__ import annotations

from collections.abc import Mapping

from pypowerwall_server.aggregate import app_scale
from pypowerwall_server.control.readback import ControlState

RESERVE_CALL = "get_reserve()"  # app scale
MODE_CALL = "get_mode()"
GRID_CHARGING_CALL = "get_grid_charging()"  # None on TEDAPI Wi-Fi / local: not a write path
GRID_EXPORT_CALL = "get_grid_export()"
LEVEL_CALL = "level()"  # raw scale
GRID_STATUS_CALL = "grid_status('string')"  # "UP", "DOWN", "SYNCING"

CONTROL_CALLS = (RESERVE_CALL, MODE_CALL, GRID_CHARGING_CALL, GRID_EXPORT_CALL)


def control_state(calls: Mapping[str, object]) -> ControlState:
    """Anything missing or of an unexpected type stays None (unknown), never a default."""
    level = _number(calls.get(LEVEL_CALL))
    status = calls.get(GRID_STATUS_CALL)
    return ControlState(
        reserve_percent=_number(calls.get(RESERVE_CALL)),
        mode=_string(calls.get(MODE_CALL)),
        grid_charging=_boolean(calls.get(GRID_CHARGING_CALL)),
        grid_export=_string(calls.get(GRID_EXPORT_CALL)),
        state_of_energy_percent=None if level is None else app_scale(level),
        grid_connected={"UP": True, "DOWN": False}.get(status) if isinstance(status, str) else None,
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
