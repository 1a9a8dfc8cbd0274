"""A gateway's current control settings from its Snapshot's typed Readings, so the
supervisor can answer `control_state()` from memory. The slow tier must include
gateway/readings.py's CONTROL_CALLS for every gateway that can write."""

from __future__ import annotations

from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.models import Readings


def control_state(readings: Readings) -> ControlState:
    """Anything missing stays None (unknown), never a default; an empty mode is unknown.
    The reserve is the library's get_reserve() without float noise (gateway/numbers.py):
    an int when whole, as the legacy proxy answered it."""
    status = readings.grid_status
    return ControlState(
        reserve_percent=readings.backup_reserve_percent_app,
        mode=readings.operating_mode or None,
        grid_charging=readings.grid_charging,
        grid_export=readings.grid_export or None,
        state_of_energy_percent=readings.soe_percent_app,
        grid_connected={"UP": True, "DOWN": False}.get(status) if status is not None else None,
        battery_power_w=readings.power_w.battery if readings.power_w is not None else None,
        max_discharge_w=readings.max_discharge_power_w,
        max_charge_w=readings.max_charge_power_w,
    )
