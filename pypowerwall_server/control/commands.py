"""The typed control commands: what a validated request asks a gateway to do.

Values are already checked when a command exists (values.py builds them); a reserve is in
app scale 0-100, as the Tesla app shows it (pypowerwall's set_reserve takes that scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Control(StrEnum):
    RESERVE = "reserve"
    MODE = "mode"
    GRID_CHARGING = "grid_charging"
    GRID_EXPORT = "grid_export"
    RESERVE_HOLD = "reserve_hold"
    MAX_BACKUP = "max_backup"
    OFF_GRID = "off_grid"
    RECONNECT = "reconnect"
    DISPATCH = "dispatch"
    RESUME = "resume"


class OperatingMode(StrEnum):
    SELF_CONSUMPTION = "self_consumption"
    BACKUP = "backup"
    AUTONOMOUS = "autonomous"


class ExportRule(StrEnum):
    BATTERY_OK = "battery_ok"
    PV_ONLY = "pv_only"
    NEVER = "never"


# What the Tesla app calls each mode and export rule (Home Assistant shows these; the API
# and the MQTT state JSON keep the values above).
APP_NAMES: dict[str, str] = {
    OperatingMode.SELF_CONSUMPTION: "Self-Powered",
    OperatingMode.AUTONOMOUS: "Time-Based Control",
    OperatingMode.BACKUP: "Backup",
    ExportRule.PV_ONLY: "Solar only",
    ExportRule.BATTERY_OK: "Everything",
    ExportRule.NEVER: "No export",
}


@dataclass(frozen=True, slots=True)
class SetReserve:
    percent: int  # app scale 0-100, as the Tesla app shows it


@dataclass(frozen=True, slots=True)
class SetMode:
    mode: OperatingMode


@dataclass(frozen=True, slots=True)
class SetOperation:
    """Reserve and mode in one library call (the legacy `mode`/`level` companions)."""

    percent: int
    mode: OperatingMode


@dataclass(frozen=True, slots=True)
class SetGridCharging:
    enabled: bool


@dataclass(frozen=True, slots=True)
class SetGridExport:
    rule: ExportRule


@dataclass(frozen=True, slots=True)
class HoldReserve:
    """Reserve = the current state of energy; resolved when the write is planned."""


@dataclass(frozen=True, slots=True)
class ScheduleMaxBackup:
    seconds: int


@dataclass(frozen=True, slots=True)
class CancelMaxBackup:
    pass


@dataclass(frozen=True, slots=True)
class GoOffGrid:
    pass


@dataclass(frozen=True, slots=True)
class ReconnectGrid:
    pass


@dataclass(frozen=True, slots=True)
class DispatchBattery:
    """Battery power for a while, whatever the reserve and export rule say (v1r only).
    Signs as everywhere: positive = discharge, negative = charge."""

    power_w: int
    duration_s: int


@dataclass(frozen=True, slots=True)
class ResumeBattery:
    """End a dispatch early: the gateway follows its configured mode again."""


@dataclass(frozen=True, slots=True)
class Combined:
    """Several settings in one call; each part is written and reported on its own."""

    percent: int | None
    mode: OperatingMode | None
    rule: ExportRule | None


Command = (
    SetReserve
    | SetMode
    | SetOperation
    | SetGridCharging
    | SetGridExport
    | HoldReserve
    | ScheduleMaxBackup
    | CancelMaxBackup
    | GoOffGrid
    | ReconnectGrid
    | DispatchBattery
    | ResumeBattery
    | Combined
)


def controls_of(command: Command) -> tuple[Control, ...]:
    """The controls a command changes, in the order they are written."""
    match command:
        case SetReserve():
            return (Control.RESERVE,)
        case SetMode():
            return (Control.MODE,)
        case SetOperation():
            return (Control.RESERVE, Control.MODE)
        case SetGridCharging():
            return (Control.GRID_CHARGING,)
        case SetGridExport():
            return (Control.GRID_EXPORT,)
        case HoldReserve():
            return (Control.RESERVE_HOLD,)
        case ScheduleMaxBackup() | CancelMaxBackup():
            return (Control.MAX_BACKUP,)
        case GoOffGrid():
            return (Control.OFF_GRID,)
        case ReconnectGrid():
            return (Control.RECONNECT,)
        case DispatchBattery():
            return (Control.DISPATCH,)
        case ResumeBattery():
            return (Control.RESUME,)
        case Combined(percent, mode, rule):
            present = (
                (percent, Control.RESERVE),
                (mode, Control.MODE),
                (rule, Control.GRID_EXPORT),
            )
            return tuple(control for part, control in present if part is not None)
