"""The unit of each per-battery-unit value, per source (gateway/units.py)."""

from __future__ import annotations

import pytest

from pypowerwall_server.gateway.readings import readings_from_calls
from pypowerwall_server.gateway.units import (
    BLOCK_UNITS,
    STATUS_SOURCES,
    status_source,
    to_base_unit,
    units_disagree_with_meter,
)
from pypowerwall_server.models import BatteryUnit, GatewayAttributes

# One row per source: what the library's battery block carries -> what we publish.
BLOCK_TABLE = [
    ("local_api", {"p_out": -1340.0, "nominal_energy_remaining": 8089}, -1340.0, 8089),
    ("tedapi", {"p_out": -1.34, "nominal_energy_remaining": 8089}, -1340.0, 8089),
    ("tedapi", {"p_out": 0.157, "nominal_energy_remaining": 100}, 157.0, 100),
    ("cloud", {"p_out": 250, "nominal_energy_remaining": 1}, 250, 1),
    ("fleetapi", {"p_out": -75.5, "nominal_energy_remaining": 2}, -75.5, 2),
    ("tedapi", {"p_out": None, "nominal_energy_remaining": None}, None, None),
]


def test_every_source_has_a_row_with_the_same_fields():
    assert set(BLOCK_UNITS) == set(STATUS_SOURCES)
    fields = set(BLOCK_UNITS["local_api"])
    assert all(set(row) == fields for row in BLOCK_UNITS.values())


@pytest.mark.parametrize(("source", "block", "power_w", "remaining_wh"), BLOCK_TABLE)
def test_battery_unit_power_1000_times_too_small_over_tedapi(source, block, power_w, remaining_wh):
    status = {"battery_blocks": [{"PackageSerialNumber": "TG1", **block}]}
    (unit,) = readings_from_calls({"system_status()": status}, source).batteries
    assert (unit.power_w, unit.energy_remaining_wh) == (power_w, remaining_wh)


@pytest.mark.parametrize(
    ("mode", "tedapi_mode", "cloud", "fleet", "source"),
    [
        ("local", "off", False, False, "local_api"),
        ("local", "hybrid", False, False, "local_api"),  # system status over the local API
        ("local", "v1r", False, False, "tedapi"),
        ("tedapi", "full", False, False, "tedapi"),
        ("cloud", "off", True, False, "cloud"),
        ("fleetapi", "off", True, True, "fleetapi"),
    ],
)
def test_status_source_per_connection(mode, tedapi_mode, cloud, fleet, source):
    attributes = GatewayAttributes(mode, True, False, cloud, fleet, tedapi_mode, None, "0")
    assert status_source(attributes) == source


def test_kilowatts_become_watts_without_float_noise():
    assert to_base_unit("tedapi", "p_out", -2.65) == -2650.0
    assert to_base_unit("tedapi", "p_out", 0.001) == 1.0


def unit(power_w):
    return BatteryUnit("TG", 13500, 5000, power_w)


@pytest.mark.parametrize(
    ("powers", "meter", "agrees"),
    [
        ((-1325.0, -1325.0), -2650.0, True),
        ((-1.325, -1.325), -2650.0, False),  # a kW value read as W
        ((-1300.0, -1400.0), -2650.0, True),  # not read at the same instant
        ((-2705.0, None), -2705.0, True),  # a Powerwall 3 carries its expansion's power
        ((None, None), -2705.0, True),  # cannot tell
        ((), -2650.0, True),
        ((100.0,), None, True),
    ],
)
def test_battery_units_sum_to_the_battery_meter(powers, meter, agrees):
    problem = units_disagree_with_meter(tuple(map(unit, powers)), meter)
    assert (problem is None) is agrees
    if not agrees:
        assert "battery meter reads -2650 W" in problem
