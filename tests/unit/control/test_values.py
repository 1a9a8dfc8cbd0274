"""Parsing of control values: the legacy proxy's form strings, evcc's JSON, and the exact
legacy error texts (../shared/control-contract.md)."""

from __future__ import annotations

import pytest

from pypowerwall_server.control.commands import (
    CancelMaxBackup,
    Combined,
    Control,
    ExportRule,
    GoOffGrid,
    HoldReserve,
    OperatingMode,
    ReconnectGrid,
    ScheduleMaxBackup,
    SetGridCharging,
    SetGridExport,
    SetMode,
    SetOperation,
    SetReserve,
    controls_of,
)
from pypowerwall_server.control.values import (
    ReadCurrent,
    ValueInvalid,
    parse_combined,
    parse_control,
)

SC = OperatingMode.SELF_CONSUMPTION
AUTO = OperatingMode.AUTONOMOUS


@pytest.mark.parametrize(
    ("action", "fields", "expected"),
    [
        # legacy form strings
        ("reserve", {"value": "20"}, SetReserve(20)),
        ("reserve", {"value": "0"}, SetReserve(0)),
        ("reserve", {"value": "100"}, SetReserve(100)),
        ("reserve", {"value": "20", "mode": "backup"}, SetOperation(20, OperatingMode.BACKUP)),
        ("mode", {"value": "self_consumption"}, SetMode(SC)),
        ("mode", {"value": "autonomous", "level": "35"}, SetOperation(35, AUTO)),
        ("mode", {"value": "Backup"}, SetMode(OperatingMode.BACKUP)),
        ("grid_charging", {"value": "true"}, SetGridCharging(True)),
        ("grid_charging", {"value": "FALSE"}, SetGridCharging(False)),
        ("grid_export", {"value": "battery_ok"}, SetGridExport(ExportRule.BATTERY_OK)),
        ("grid_export", {"value": "PV_ONLY"}, SetGridExport(ExportRule.PV_ONLY)),
        ("grid_export", {"value": "never"}, SetGridExport(ExportRule.NEVER)),
        ("max_backup", {"value": "7200"}, ScheduleMaxBackup(7200)),
        ("max_backup", {"value": "Cancel"}, CancelMaxBackup()),
        ("off_grid", {"confirm": "true"}, GoOffGrid()),
        ("reconnect", {"confirm": True}, ReconnectGrid()),
        # evcc's JSON
        ("reserve", {"value": 40}, SetReserve(40)),
        ("reserve", {"value": 80.0}, SetReserve(80)),
        ("reserve_hold", {}, HoldReserve()),
        ("reserve_hold", {"value": ""}, HoldReserve()),
        ("grid_charging", {"value": False}, SetGridCharging(False)),
        ("max_backup", {"value": 3600}, ScheduleMaxBackup(3600)),
        # an empty value reads the current setting, as the legacy proxy does
        ("reserve", {}, ReadCurrent(Control.RESERVE)),
        ("reserve", {"value": ""}, ReadCurrent(Control.RESERVE)),
        ("reserve", {"value": None}, ReadCurrent(Control.RESERVE)),
        ("mode", {"value": ""}, ReadCurrent(Control.MODE)),
        ("grid_charging", {}, ReadCurrent(Control.GRID_CHARGING)),
        ("grid_export", {}, ReadCurrent(Control.GRID_EXPORT)),
        ("max_backup", {}, ReadCurrent(Control.MAX_BACKUP)),
    ],
)
def test_accepted_values(action: str, fields: dict[str, object], expected: object) -> None:
    assert parse_control(action, fields) == expected


V, M, L, B = (
    "Control Command Value Invalid",
    "Control Command Mode Invalid",
    "Control Command Level Invalid",
    "Control Command Value Invalid - use seconds or cancel",
)


@pytest.mark.parametrize(
    ("action", "fields", "error"),
    [
        ("reserve", {"value": "101"}, V),
        ("reserve", {"value": "-1"}, V),
        ("reserve", {"value": -1}, V),
        ("reserve", {"value": "abc"}, V),
        ("reserve", {"value": "20.5"}, V),
        ("reserve", {"value": 20.5}, V),
        ("reserve", {"value": " 20"}, V),
        ("reserve", {"value": "²"}, V),  # str.isdigit() says yes; int() would raise
        ("reserve", {"value": True}, V),  # a JSON boolean is not a number
        ("reserve", {"value": [20]}, V),
        ("reserve", {"value": "9" * 200}, V),
        ("reserve", {"value": "20", "mode": "turbo"}, M),
        ("mode", {"value": "turbo"}, V),
        ("mode", {"value": 1}, V),
        ("mode", {"value": "backup", "level": "x"}, L),
        ("mode", {"value": "backup", "level": "101"}, L),
        ("grid_charging", {"value": "yes"}, V),
        ("grid_charging", {"value": 1}, V),
        ("grid_export", {"value": "sometimes"}, V),
        ("grid_export", {"value": True}, V),
        ("reserve_hold", {"value": "50"}, V),
        ("max_backup", {"value": "soon"}, B),
        ("max_backup", {"value": "30"}, B),
        ("max_backup", {"value": 10**9}, B),
        ("off_grid", {}, V),
        ("off_grid", {"confirm": "false"}, V),
        ("off_grid", {"value": "true"}, V),  # confirm must be said as confirm
        ("reconnect", {}, V),
        ("foo", {"value": "1"}, "Invalid Command Action"),
        ("", {}, "Invalid Command Action"),
        ("RESERVE", {"value": "20"}, "Invalid Command Action"),
    ],
)
def test_refused_values_use_the_legacy_texts(
    action: str, fields: dict[str, object], error: str
) -> None:
    parsed = parse_control(action, fields)
    assert isinstance(parsed, ValueInvalid)
    assert parsed.error == error
    assert parsed.detail


def test_detail_names_the_allowed_values() -> None:
    parsed = parse_control("grid_export", {"value": "sometimes"})
    assert isinstance(parsed, ValueInvalid)
    assert "battery_ok, pv_only, never" in parsed.detail


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"reserve": 20}, Combined(20, None, None)),
        ({"reserve": "30", "mode": "backup"}, Combined(30, OperatingMode.BACKUP, None)),
        (
            {"reserve": 0, "mode": "autonomous", "grid_export": "pv_only"},
            Combined(0, OperatingMode.AUTONOMOUS, ExportRule.PV_ONLY),
        ),
        ({"grid_export": "never", "mode": ""}, Combined(None, None, ExportRule.NEVER)),
    ],
)
def test_combined_accepts_any_parts(fields: dict[str, object], expected: Combined) -> None:
    assert parse_combined(fields) == expected


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"reserve": 101, "mode": "backup"}, "reserve"),
        ({"reserve": 20, "mode": "turbo"}, "mode"),
        ({"reserve": 20, "grid_export": "sometimes"}, "grid_export"),
        ({"reserve": "x", "mode": "turbo"}, "reserve, mode"),
        ({}, "at least one"),
        ({"reserve": "", "mode": None}, "at least one"),
    ],
)
def test_combined_refuses_the_whole_call_for_one_bad_part(
    fields: dict[str, object], named: str
) -> None:
    parsed = parse_combined(fields)
    assert isinstance(parsed, ValueInvalid)
    assert parsed.error == "Control Command Value Invalid"
    assert named in parsed.detail


@pytest.mark.parametrize(
    ("command", "controls"),
    [
        (SetReserve(5), (Control.RESERVE,)),
        (SetOperation(5, SC), (Control.RESERVE, Control.MODE)),
        (HoldReserve(), (Control.RESERVE_HOLD,)),
        (CancelMaxBackup(), (Control.MAX_BACKUP,)),
        (GoOffGrid(), (Control.OFF_GRID,)),
        (ReconnectGrid(), (Control.RECONNECT,)),
        (Combined(None, SC, ExportRule.NEVER), (Control.MODE, Control.GRID_EXPORT)),
        (Combined(10, None, None), (Control.RESERVE,)),
    ],
)
def test_controls_of_names_what_a_command_changes(command: object, controls: object) -> None:
    assert controls_of(command) == controls  # type: ignore[arg-type]
