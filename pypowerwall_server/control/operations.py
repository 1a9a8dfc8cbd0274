"""From a validated command to the pypowerwall 0.22.2 calls that carry it, and what each
call's return value means.

Read from the library's source: `set_reserve(level)`, `set_mode(mode)` and
`set_operation(level, mode)` post `/api/operation` with a partial payload (reserve in app
scale 0-100; v1r converts it to the gateway's raw scale) and return None when there is no
write path, else a dict: `{"error": ...}` when the write failed, or one entry per part
(`set_backup_reserve_percent`, `set_operation`) whose `result` is None, False or
"BatteryNotFound" when that part failed. `set_grid_charging(bool)` and
`set_grid_export(rule)` return None/False on failure and True (v1r) or the service's answer
(cloud, FleetAPI) on success. `schedule_max_backup(seconds)`/`cancel_max_backup()` return
True only on success (None off v1r). `go_off_grid(confirm=True)`/`reconnect_grid()` return
None on failure, else `{"mode", "force", "result"}` (the read-back of the grid status tells
whether the contactor moved). `dispatch_battery_power(watts, seconds)` and
`resume_battery_operation()` (v1r only) return None on failure, else an acknowledgement
dict: accepted, not measured (the read-back is the battery power of the next poll).

This module never imports pypowerwall (the adapter is its only importer): the calls run on
any object with these methods, which the supervisor hands over on the gateway's worker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Command,
    Control,
    DispatchBattery,
    ExportRule,
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


class PowerwallWriter(Protocol):
    """The write methods of pypowerwall.Powerwall (0.22.2) that control uses."""

    def set_reserve(self, level: float) -> object: ...
    def set_mode(self, mode: str) -> object: ...
    def set_operation(self, level: float | None = None, mode: str | None = None) -> object: ...
    def set_grid_charging(self, mode: bool) -> object: ...
    def set_grid_export(self, mode: str) -> object: ...
    def schedule_max_backup(self, duration_seconds: int = 7200) -> object: ...
    def cancel_max_backup(self) -> object: ...
    def go_off_grid(self, confirm: bool = False) -> object: ...
    def reconnect_grid(self) -> object: ...
    def dispatch_battery_power(self, power_watts: float, duration_seconds: int) -> object: ...
    def resume_battery_operation(self) -> object: ...


@dataclass(frozen=True, slots=True)
class LibraryCall:
    """One library call; `controls` are the parts of the command it writes."""

    text: str  # e.g. "set_operation(level=20, mode='backup')", for logs and the audit
    controls: tuple[Control, ...]
    run: Callable[[PowerwallWriter], object]


def library_calls(command: Command) -> tuple[LibraryCall, ...]:
    """The calls for `command`, in order. A reserve hold must be resolved to a reserve first
    (writes.plan_write does that): the library has no notion of it."""
    match command:
        case SetReserve(percent):
            return (_set_reserve(percent),)
        case SetMode(mode):
            return (_set_mode(mode.value),)
        case SetOperation(percent, mode):
            return (_set_operation(percent, mode.value),)
        case SetGridCharging(enabled):
            return (
                LibraryCall(
                    f"set_grid_charging({enabled})",
                    (Control.GRID_CHARGING,),
                    lambda pw: pw.set_grid_charging(enabled),
                ),
            )
        case SetGridExport(rule):
            return (_set_grid_export(rule.value),)
        case ScheduleMaxBackup(seconds):
            return (
                LibraryCall(
                    f"schedule_max_backup(duration_seconds={seconds})",
                    (Control.MAX_BACKUP,),
                    lambda pw: pw.schedule_max_backup(duration_seconds=seconds),
                ),
            )
        case CancelMaxBackup():
            return (
                LibraryCall(
                    "cancel_max_backup()", (Control.MAX_BACKUP,), lambda pw: pw.cancel_max_backup()
                ),
            )
        case GoOffGrid():
            return (
                LibraryCall(
                    "go_off_grid(confirm=True)",
                    (Control.OFF_GRID,),
                    lambda pw: pw.go_off_grid(confirm=True),
                ),
            )
        case ReconnectGrid():
            return (
                LibraryCall(
                    "reconnect_grid()", (Control.RECONNECT,), lambda pw: pw.reconnect_grid()
                ),
            )
        case DispatchBattery(power_w, duration_s):
            return (
                LibraryCall(
                    f"dispatch_battery_power({power_w}, {duration_s})",
                    (Control.DISPATCH,),
                    lambda pw: pw.dispatch_battery_power(power_w, duration_s),
                ),
            )
        case ResumeBattery():
            return (
                LibraryCall(
                    "resume_battery_operation()",
                    (Control.RESUME,),
                    lambda pw: pw.resume_battery_operation(),
                ),
            )
        case Combined(percent, mode, rule):
            return _combined_calls(percent, None if mode is None else mode.value, rule)
        case HoldReserve():
            raise ValueError("resolve a reserve hold to a reserve before planning its calls")


def _set_reserve(percent: int) -> LibraryCall:
    return LibraryCall(
        f"set_reserve({percent})", (Control.RESERVE,), lambda pw: pw.set_reserve(percent)
    )


def _set_mode(mode: str) -> LibraryCall:
    return LibraryCall(f"set_mode({mode!r})", (Control.MODE,), lambda pw: pw.set_mode(mode))


def _set_operation(percent: int, mode: str) -> LibraryCall:
    return LibraryCall(
        f"set_operation(level={percent}, mode={mode!r})",
        (Control.RESERVE, Control.MODE),
        lambda pw: pw.set_operation(level=percent, mode=mode),
    )


def _set_grid_export(rule: str) -> LibraryCall:
    return LibraryCall(
        f"set_grid_export({rule!r})", (Control.GRID_EXPORT,), lambda pw: pw.set_grid_export(rule)
    )


def _combined_calls(
    percent: int | None, mode: str | None, rule: ExportRule | None
) -> tuple[LibraryCall, ...]:
    """Reserve and mode in one set_operation when both are given (one /api/operation post,
    as the library recommends), then the export rule."""
    calls: list[LibraryCall] = []
    if percent is not None and mode is not None:
        calls.append(_set_operation(percent, mode))
    elif percent is not None:
        calls.append(_set_reserve(percent))
    elif mode is not None:
        calls.append(_set_mode(mode))
    if rule is not None:
        calls.append(_set_grid_export(rule.value))
    return tuple(calls)


_OPERATION_PARTS = {"set_backup_reserve_percent": "reserve", "set_operation": "mode"}


def call_failure(result: object) -> str | None:
    """None when the library reports success, else why it did not (a message safe to show:
    it never repeats the library's own text, which may quote a service's answer)."""
    if result is None:
        return "the library returned no result (no write path, or the write failed)"
    if result is False:
        return "the library reported failure"
    if isinstance(result, Mapping):
        if "error" in result or "ERROR" in result:
            return "the gateway or service refused the write or did not answer in time"
        failed = [
            name
            for key, name in _OPERATION_PARTS.items()
            if isinstance(part := result.get(key), Mapping) and _part_failed(part.get("result"))
        ]
        if failed:
            return f"the service refused the {' and '.join(failed)} part"
    return None


def _part_failed(result: object) -> bool:
    # identity, not ==: a result of 0 is not False
    return result is None or result is False or result == "BatteryNotFound"
