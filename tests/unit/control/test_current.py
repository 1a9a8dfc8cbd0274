"""Current control settings from a Snapshot's calls (through its typed Readings): unknown
stays None."""

from __future__ import annotations

import pytest

from pypowerwall_server.control import current
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.gateway.readings import CONTROL_CALLS, readings_from_calls


def control_state(calls: dict[str, object]) -> ControlState:
    return current.control_state(readings_from_calls(calls, "local_api"))


def test_all_settings_from_the_calls() -> None:
    calls = {
        "get_reserve()": 20.0,
        "get_mode()": "self_consumption",
        "get_grid_charging()": True,
        "get_grid_export()": "pv_only",
        "level()": 62.0,
        "grid_status('string')": "UP",
    }
    assert control_state(calls) == ControlState(
        reserve_percent=20.0,
        mode="self_consumption",
        grid_charging=True,
        grid_export="pv_only",
        state_of_energy_percent=pytest.approx((62.0 - 5) / 0.95),  # type: ignore[arg-type]
        grid_connected=True,
    )


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        ({}, ControlState()),
        ({"get_reserve()": None, "get_mode()": None}, ControlState()),
        ({"get_reserve()": 0}, ControlState(reserve_percent=0.0)),  # 0 is a value
        ({"get_reserve()": True}, ControlState()),  # a bool is not a percentage
        ({"get_reserve()": "20"}, ControlState()),
        ({"get_mode()": ""}, ControlState()),
        ({"get_grid_charging()": False}, ControlState(grid_charging=False)),
        ({"get_grid_charging()": "false"}, ControlState()),
        ({"level()": 3.0}, ControlState(state_of_energy_percent=0.0)),  # clamped app scale
        ({"grid_status('string')": "DOWN"}, ControlState(grid_connected=False)),
        ({"grid_status('string')": "SYNCING"}, ControlState()),  # neither yet
        ({"grid_status('string')": 1}, ControlState()),
    ],
)
def test_unknown_or_odd_values_stay_none(calls: dict[str, object], expected: ControlState) -> None:
    assert control_state(calls) == expected


def test_control_calls_are_what_the_slow_tier_must_fetch() -> None:
    assert CONTROL_CALLS == (
        "get_reserve()",
        "get_mode()",
        "get_grid_charging()",
        "get_grid_export()",
    )
