"""Control names and the pure parsing of a request's values into typed commands.

Accepts what existing clients send (../shared/control-contract.md): the legacy proxy's
form strings ("20", "true", "battery_ok", "cancel"), evcc's JSON ints and JSON booleans.
An empty value asks for the current value, as the legacy proxy answers it. Error messages
are the legacy proxy's exact JSON texts; `detail` says more for people.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Command,
    Control,
    DispatchBattery,
    ExportRule,
    GoOffGrid,
    HoldReserve,
    OperatingMode,
    ReconnectGrid,
    ResumeBattery,
    ScheduleMaxBackup,
    SetGridCharging,
    SetGridExport,
    SetMode,
    SetOperation,
    SetReserve,
)

VALUE_INVALID = "Control Command Value Invalid"
UNKNOWN_ACTION = "Invalid Command Action"
MODE_INVALID = "Control Command Mode Invalid"
LEVEL_INVALID = "Control Command Level Invalid"
MAX_BACKUP_INVALID = "Control Command Value Invalid - use seconds or cancel"

MAX_VALUE_CHARS = 64  # longest value worth reading; anything longer is refused unread
MAX_BACKUP_SECONDS = 7 * 24 * 3600  # a week; the library's own floor is 60 s
DISPATCH_SECONDS = (1, 24 * 3600)  # pypowerwall's bounds: 1 s to a day
DISPATCH_MAX_W = 1_000_000  # a sanity bound; the site's own limits are checked when planned
_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also accepts "²"
_SIGNED_DIGITS = re.compile(r"[-+]?[0-9]{1,9}")

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReadCurrent:
    """No value given: answer the current value (legacy behaviour)."""

    control: Control


@dataclass(frozen=True, slots=True)
class ValueInvalid:
    """A 400: `error` is the legacy JSON text, `detail` names the field and what is allowed."""

    error: str
    detail: str


Parsed = Command | ReadCurrent | ValueInvalid


def parse_control(action: str, fields: Mapping[str, object]) -> Parsed:
    """Parse a request to `/control/<action>`; `fields` come from a form or a JSON object.

    Anything but a known action is `Invalid Command Action`, as in the legacy proxy."""
    try:
        control = Control(action)
    except ValueError:
        return ValueInvalid(UNKNOWN_ACTION, "unknown control; known: " + ", ".join(Control))
    value = fields.get("value")
    if _is_empty(value) and control in READABLE:
        return ReadCurrent(control)
    return _PARSERS[control](value, fields)


def parse_combined(fields: Mapping[str, object]) -> Combined | ValueInvalid:
    """The combined call: any of `reserve`, `mode`, `grid_export`, at least one. One bad
    part refuses the whole call, so nothing is half-written."""
    percent = _optional(fields.get("reserve"), _percent)
    mode = _optional(fields.get("mode"), lambda v: _choice(v, OperatingMode))
    rule = _optional(fields.get("grid_export"), lambda v: _choice(v, ExportRule))
    if (
        isinstance(percent, ValueInvalid)
        or isinstance(mode, ValueInvalid)
        or isinstance(rule, ValueInvalid)
    ):
        parts = (("reserve", percent), ("mode", mode), ("grid_export", rule))
        named = [name for name, part in parts if isinstance(part, ValueInvalid)]
        return ValueInvalid(VALUE_INVALID, "invalid: " + ", ".join(named))
    if percent is None and mode is None and rule is None:
        return ValueInvalid(VALUE_INVALID, "give at least one of reserve, mode, grid_export")
    return Combined(percent, mode, rule)


def _optional(value: object, parse: Callable[[object], T]) -> T | None:
    return None if _is_empty(value) else parse(value)


def _is_empty(value: object) -> bool:
    return value is None or value == ""


def _text(value: object) -> str | None:
    """A short string value, lower-cased; None for anything else (numbers, lists, bools)."""
    if isinstance(value, str) and len(value) <= MAX_VALUE_CHARS:
        return value.lower()
    return None


def _whole_number(value: object) -> int | None:
    """Digits in a form, or a JSON integer (40 or 40.0); never a JSON boolean."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def _percent(value: object) -> int | ValueInvalid:
    number = _whole_number(value)
    if number is None or not 0 <= number <= 100:
        return ValueInvalid(VALUE_INVALID, "reserve must be a whole number from 0 to 100")
    return number


def _choice(value: object, choices: type[E]) -> E | ValueInvalid:
    text = _text(value)
    for choice in choices:
        if text == choice.value:
            return choice
    allowed = ", ".join(c.value for c in choices)
    return ValueInvalid(VALUE_INVALID, f"must be one of {allowed}")


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value)
    return {"true": True, "false": False}.get(text) if text is not None else None


def _reserve(value: object, fields: Mapping[str, object]) -> Parsed:
    percent = _percent(value)
    if isinstance(percent, ValueInvalid):
        return percent
    companion = fields.get("mode")
    if _is_empty(companion):
        return SetReserve(percent)
    mode = _choice(companion, OperatingMode)
    if isinstance(mode, ValueInvalid):
        return ValueInvalid(MODE_INVALID, "mode " + mode.detail)
    return SetOperation(percent, mode)


def _mode(value: object, fields: Mapping[str, object]) -> Parsed:
    mode = _choice(value, OperatingMode)
    if isinstance(mode, ValueInvalid):
        return ValueInvalid(VALUE_INVALID, "mode " + mode.detail)
    companion = fields.get("level")
    if _is_empty(companion):
        return SetMode(mode)
    percent = _percent(companion)
    if isinstance(percent, ValueInvalid):
        return ValueInvalid(LEVEL_INVALID, "level " + percent.detail.removeprefix("reserve "))
    return SetOperation(percent, mode)


def _grid_charging(value: object, fields: Mapping[str, object]) -> Parsed:
    enabled = _boolean(value)
    if enabled is None:
        return ValueInvalid(VALUE_INVALID, "grid_charging must be true or false")
    return SetGridCharging(enabled)


def _grid_export(value: object, fields: Mapping[str, object]) -> Parsed:
    rule = _choice(value, ExportRule)
    if isinstance(rule, ValueInvalid):
        return ValueInvalid(VALUE_INVALID, "grid_export " + rule.detail)
    return SetGridExport(rule)


def _reserve_hold(value: object, fields: Mapping[str, object]) -> Parsed:
    if not _is_empty(value):
        return ValueInvalid(VALUE_INVALID, "reserve_hold takes no value")
    return HoldReserve()


def _max_backup(value: object, fields: Mapping[str, object]) -> Parsed:
    if _text(value) == "cancel":
        return CancelMaxBackup()
    seconds = _whole_number(value)
    if seconds is None or not 60 <= seconds <= MAX_BACKUP_SECONDS:
        detail = f"max_backup takes seconds from 60 to {MAX_BACKUP_SECONDS}, or cancel"
        return ValueInvalid(MAX_BACKUP_INVALID, detail)
    return ScheduleMaxBackup(seconds)


def _dispatch(value: object, fields: Mapping[str, object]) -> Parsed:
    power = _signed_whole(fields.get("power_w"))
    seconds = _whole_number(fields.get("duration_s"))
    low, high = DISPATCH_SECONDS
    if power is None or abs(power) > DISPATCH_MAX_W:
        detail = "power_w must be whole watts: positive discharges, negative charges"
        return ValueInvalid(VALUE_INVALID, detail)
    if seconds is None or not low <= seconds <= high:
        return ValueInvalid(VALUE_INVALID, f"duration_s must be whole seconds from {low} to {high}")
    return DispatchBattery(power, seconds)


def _resume(value: object, fields: Mapping[str, object]) -> Parsed:
    return ResumeBattery()


def _signed_whole(value: object) -> int | None:
    """Like _whole_number, with a sign allowed in a form value."""
    if isinstance(value, str) and _SIGNED_DIGITS.fullmatch(value):
        return int(value)
    return _whole_number(value)


def _confirmed(fields: Mapping[str, object]) -> bool:
    return _boolean(fields.get("confirm")) is True


def _off_grid(value: object, fields: Mapping[str, object]) -> Parsed:
    if not _confirmed(fields):
        return ValueInvalid(VALUE_INVALID, "off_grid opens the grid contactor: send confirm=true")
    return GoOffGrid()


def _reconnect(value: object, fields: Mapping[str, object]) -> Parsed:
    if not _confirmed(fields):
        return ValueInvalid(VALUE_INVALID, "reconnect closes the grid contactor: send confirm=true")
    return ReconnectGrid()


# Controls whose empty value reads the current setting (the legacy proxy's rule).
READABLE = frozenset(
    {Control.RESERVE, Control.MODE, Control.GRID_CHARGING, Control.GRID_EXPORT, Control.MAX_BACKUP}
)

_PARSERS = {
    Control.RESERVE: _reserve,
    Control.MODE: _mode,
    Control.GRID_CHARGING: _grid_charging,
    Control.GRID_EXPORT: _grid_export,
    Control.RESERVE_HOLD: _reserve_hold,
    Control.MAX_BACKUP: _max_backup,
    Control.OFF_GRID: _off_grid,
    Control.RECONNECT: _reconnect,
    Control.DISPATCH: _dispatch,
    Control.RESUME: _resume,
}
