"""The aggregate state of energy keeps batteries it can see: a gateway's
capacity from the first source that has it (gateway/capacity.py), named in the answer."""

from __future__ import annotations

from typing import Any

import pytest

from pypowerwall_server.gateway.capacity import BatteryEnergy, battery_energy
from pypowerwall_server.gateway.readings import readings_from_calls
from pypowerwall_server.models import GatewayAttributes, MeterPower, Readings, Snapshot
from pypowerwall_server.site_totals import aggregate_soe, reading_of
from tests.unit.test_site_totals import soe_reading


def block(part: str = "3012170-05-B", full: Any = None, remaining: Any = None) -> dict[str, Any]:
    found = {"PackagePartNumber": part, "p_out": -1200}
    if full is not None:
        found["nominal_full_pack_energy"] = full
    if remaining is not None:
        found["nominal_energy_remaining"] = remaining
    return found


SITE_INFO = {"nominal_system_energy_kWh": 27.0}
# case -> (system_status, site_info, level raw %, expected)
CASES: dict[str, tuple[Any, Any, float | None, BatteryEnergy]] = {
    "system_status has it": (
        {"nominal_full_pack_energy": 27000, "nominal_energy_remaining": 6480, "battery_blocks": []},
        SITE_INFO,
        50.0,
        BatteryEnergy(27000.0, 6480.0, "system_status"),
    ),
    "system_status capacity 0: the blocks": (
        {"nominal_full_pack_energy": 0, "battery_blocks": [block(full=13000, remaining=1300)] * 2},
        SITE_INFO,
        10.0,
        BatteryEnergy(26000.0, 2600.0, "battery_blocks"),
    ),
    "no capacity in system_status: site info": (
        {"battery_blocks": [block(), block()]},
        SITE_INFO,
        24.0,
        BatteryEnergy(27000.0, 6480.0, "site_info"),
    ),
    "a block without capacity: not the blocks": (
        {"battery_blocks": [block(full=13000, remaining=1), block()]},
        {"nominal_system_energy_kWh": None},
        50.0,
        BatteryEnergy(27000.0, 13500.0, "powerwall_model"),
    ),
    "Powerwall 3 with an expansion, by model": (
        {"battery_blocks": [block("1707000-11-J"), block("1807000-20-B")]},
        None,
        40.0,
        BatteryEnergy(27000.0, 10800.0, "powerwall_model"),
    ),
    "by model, no state of energy: capacity only": (
        {"battery_blocks": [block("2012170-25-E")]},
        None,
        None,
        BatteryEnergy(13500.0, None, "powerwall_model"),
    ),
    "an unknown model: unknown": (
        {"battery_blocks": [block("1707000-11-J"), block("9999999-00-A")]},
        None,
        40.0,
        BatteryEnergy(None, None, None),
    ),
    "nothing at all: unknown": (None, None, 40.0, BatteryEnergy(None, None, None)),
}


@pytest.mark.parametrize("case", CASES)
def test_aggregate_soe_keeps_batteries_it_can_see_capacity_sources(case: str) -> None:
    status, site_info, level, expected = CASES[case]
    assert battery_energy(status, site_info, level) == expected


def _calls(status: Any, battery_w: float = -2500.0) -> dict[str, Any]:
    meters = {"site": 100.0, "battery": battery_w, "load": 900.0, "solar": 3300.0}
    return {
        "poll('/api/meters/aggregates')": {m: {"instant_power": v} for m, v in meters.items()},
        "poll('/api/system_status/soe')": {"percentage": 24.0},
        "poll('/api/system_status')": status,
        "poll('/api/site_info')": SITE_INFO,
    }


def test_aggregate_soe_keeps_batteries_it_can_see() -> None:
    """The issue's case: /api/system_status without capacity, state of energy 24 % and
    battery power there. Before: has_battery false, left out, 503 with one such gateway."""
    readings = readings_from_calls(_calls({"battery_blocks": [block(), block()]}), "local_api")
    assert readings.capacity_source == "site_info"
    assert readings.power_w == MeterPower(100.0, -2500.0, 900.0, 3300.0)
    alone = aggregate_soe([reading_of("pw", True, _snapshot(readings))])
    assert alone is not None  # not a 503
    assert alone["percent_raw"] == pytest.approx(24.0)  # what /soe says
    (entry,) = alone["gateways"]
    assert (entry["has_battery"], entry["counted"], entry["capacity_source"]) == (
        True,
        True,
        "site_info",
    )
    # beside a gateway whose system_status has capacity: capacity-weighted together
    both = aggregate_soe([soe_reading("big", 2, 80.0), reading_of("pw", True, _snapshot(readings))])
    assert both is not None and both["complete"] is True
    assert both["percent_raw"] == pytest.approx((27000 * 0.8 + 27000 * 0.24) / 54000 * 100)


def test_aggregate_soe_never_calls_a_battery_no_battery() -> None:
    """No source knows the capacity, yet the gateway reports battery power and a state of
    energy: it has a battery (listed with its own percentage), it is just not counted."""
    calls = {**_calls({"battery_blocks": [block("9999999-00-A")]}), "poll('/api/site_info')": None}
    readings = readings_from_calls(calls, "local_api")
    assert readings.capacity_wh is None and readings.capacity_source is None
    result = aggregate_soe([soe_reading("a", 1, 50.0), reading_of("pw", True, _snapshot(readings))])
    assert result is not None and result["complete"] is False
    entry = result["gateways"][1]
    assert (entry["has_battery"], entry["counted"], entry["percent_raw"]) == (True, False, 24.0)


def _snapshot(readings: Readings) -> Snapshot:
    attributes = GatewayAttributes("local", False, False, False, False, "off", None, "0.22.2")
    return Snapshot("pw", 1.0, {}, {}, attributes, readings)
