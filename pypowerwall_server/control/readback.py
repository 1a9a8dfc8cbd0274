"""What a write should change, and how to read it back from a gateway's current settings.

The supervisor fills a ControlState from its newest snapshot; a part of a write is applied
when `shows()` finds the requested value there.
"""

from __future__ import annotations

from dataclasses import dataclass

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Command,
    Control,
    DispatchBattery,
    GoOffGrid,
    HoldReserve,
    ReconnectGrid,
    ResumeBattery,
    ScheduleMaxBackup,
    SetGridCharging,
    SetGridExport,
    SetMode,
    SetOperation,
    SetReserve,
)

Value = int | float | str | bool | None
RESERVE_TOLERANCE = 0.5  # percent: the gateway stores the reserve in its raw scale
# A dispatch shows when the battery is within this of the asked power (meters are noisy,
# the gateway ramps): the larger of DISPATCH_TOLERANCE_W and DISPATCH_TOLERANCE of it.
DISPATCH_TOLERANCE_W = 100.0
DISPATCH_TOLERANCE = 0.05
RESUMED = "resumed"


@dataclass(frozen=True, slots=True)
class ControlState:
    """A gateway's settings as its newest snapshot holds them; None = not known."""

    reserve_percent: float | None = None  # app scale: pypowerwall get_reserve()
    mode: str | None = None  # get_mode()
    grid_charging: bool | None = None  # get_grid_charging()
    grid_export: str | None = None  # get_grid_export()
    state_of_energy_percent: float | None = None  # app scale: level(scale=True)
    grid_connected: bool | None = None  # grid_status() == "UP"
    battery_power_w: float | None = None  # the battery meter: + discharging, - charging
    max_discharge_w: float | None = None  # the site's limits, from system_status()
    max_charge_w: float | None = None


def expected_values(command: Command) -> tuple[tuple[Control, Value], ...]:
    """What the read-back should show per part. Off-grid/reconnect: grid_connected."""
    match command:
        case SetReserve(percent):
            return ((Control.RESERVE, percent),)
        case SetMode(mode):
            return ((Control.MODE, mode.value),)
        case SetOperation(percent, mode):
            return ((Control.RESERVE, percent), (Control.MODE, mode.value))
        case SetGridCharging(enabled):
            return ((Control.GRID_CHARGING, enabled),)
        case SetGridExport(rule):
            return ((Control.GRID_EXPORT, rule.value),)
        case ScheduleMaxBackup(seconds):
            return ((Control.MAX_BACKUP, seconds),)
        case CancelMaxBackup():
            return ((Control.MAX_BACKUP, "cancel"),)
        case GoOffGrid():
            return ((Control.OFF_GRID, False),)
        case ReconnectGrid():
            return ((Control.RECONNECT, True),)
        case DispatchBattery(power_w, _):
            return ((Control.DISPATCH, power_w),)
        case ResumeBattery():
            return ((Control.RESUME, RESUMED),)
        case Combined(percent, mode, rule):
            parts: list[tuple[Control, Value]] = []
            if percent is not None:
                parts.append((Control.RESERVE, percent))
            if mode is not None:
                parts.append((Control.MODE, mode.value))
            if rule is not None:
                parts.append((Control.GRID_EXPORT, rule.value))
            return tuple(parts)
        case HoldReserve():
            raise ValueError("resolve a reserve hold before planning")


def read_back(control: Control, state: ControlState) -> Value:
    """The current value of one control; None when it is not read back (max backup).
    A dispatch and a resume read back the battery's measured power."""
    return {
        Control.RESERVE: state.reserve_percent,
        Control.MODE: state.mode,
        Control.GRID_CHARGING: state.grid_charging,
        Control.GRID_EXPORT: state.grid_export,
        Control.OFF_GRID: state.grid_connected,
        Control.RECONNECT: state.grid_connected,
        Control.DISPATCH: state.battery_power_w,
        Control.RESUME: state.battery_power_w,
    }.get(control)


def shows(control: Control, current: Value, expected: Value) -> bool:
    if current is None:
        return False
    if control is Control.RESERVE:
        assert isinstance(current, int | float) and isinstance(expected, int | float)
        return abs(current - expected) <= RESERVE_TOLERANCE
    if control is Control.DISPATCH:
        assert isinstance(current, int | float) and isinstance(expected, int | float)
        tolerance = max(DISPATCH_TOLERANCE_W, DISPATCH_TOLERANCE * abs(expected))
        return abs(current - expected) <= tolerance
    if control is Control.RESUME:
        return True  # acknowledged, and the battery's power is known again: nothing to match
    return current == expected
