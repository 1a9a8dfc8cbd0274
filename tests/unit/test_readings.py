"""Library results → typed Readings (gateway/readings.py): unknown is None, never 0."""

from __future__ import annotations

import pytest

from pypowerwall_server.gateway.readings import power_from_aggregates, readings_from_calls
from pypowerwall_server.models import BatteryUnit, MeterEnergy, MeterPower, SolarString

AGGREGATES = "poll('/api/meters/aggregates')"


@pytest.mark.parametrize(
    ("aggregates", "expected"),
    [
        (None, None),
        ({}, None),
        ({"site": None, "battery": {}, "load": {}, "solar": {}}, None),
        (
            {
                m: {"instant_power": v}
                for m, v in zip(("site", "battery", "load", "solar"), (1, 2, 6, 3), strict=False)
            },
            MeterPower(site=1.0, battery=2.0, load=6.0, solar=3.0),
        ),
        ({m: {"instant_power": True} for m in ("site", "battery", "load", "solar")}, None),
    ],
)
def test_power_from_aggregates(aggregates, expected):
    assert power_from_aggregates(aggregates) == expected


def test_reading_from_calls_reads_system_status_energy():
    calls = {
        "system_status()": {"nominal_full_pack_energy": 27000, "nominal_energy_remaining": 6500},
        AGGREGATES: None,
    }
    readings = readings_from_calls(calls, "local_api")
    assert (readings.capacity_wh, readings.energy_remaining_wh, readings.power_w) == (
        27000,
        6500,
        None,
    )


def test_no_calls_means_everything_unknown_never_zero():
    readings = readings_from_calls({}, "local_api")
    assert readings.power_w is None
    assert readings.soe_percent_raw is None and readings.soe_percent_app is None
    assert readings.capacity_wh is None and readings.energy_remaining_wh is None
    assert readings.grid_status is None and readings.backup_reserve_percent_app is None
    assert readings.time_remaining_hours is None and readings.firmware_version is None
    assert readings.alerts is None
    assert readings.batteries == () and readings.strings == ()
    assert dict(readings.energy_wh) == {} and dict(readings.temperatures_c) == {}
    assert all(value is None for value in readings.verbatim.values())


def test_typed_values_from_a_full_poll():
    calls = {
        AGGREGATES: {
            "site": {"instant_power": -500, "energy_imported": 1200.5, "energy_exported": 0},
            "battery": {"instant_power": 1000},
            "load": {"instant_power": 3000},
            "solar": {"instant_power": 2500, "energy_exported": 9000},
        },
        "level()": 52.5,
        "grid_status('string')": "UP",
        "get_reserve()": 20.0,
        "get_mode()": "self_consumption",
        "get_time_remaining()": 7.5,
        "version()": "25.10.1",
        "site_name()": "Home",
        "system_status()": {
            "nominal_full_pack_energy": 13500,
            "nominal_energy_remaining": 6750,
            "battery_blocks": [
                {
                    "PackageSerialNumber": "TG1",
                    "nominal_full_pack_energy": 13500,
                    "nominal_energy_remaining": 6750,
                    "p_out": 1000,
                }
            ],
        },
        "strings()": {"A": {"Voltage": 300.5, "Current": 4.0, "Power": 1202, "Connected": True}},
        "alerts()": ["SystemConnectedToGrid"],
        "vitals()": {"TETHC--1--TG1": {"THC_AmbientTemp": 21.5}},
    }
    r = readings_from_calls(calls, "local_api")
    assert r.power_w == MeterPower(site=-500.0, battery=1000.0, load=3000.0, solar=2500.0)
    # a counter of 0 is a counter the gateway does not know yet
    assert r.energy_wh["site"] == MeterEnergy(imported_wh=1200.5, exported_wh=None)
    assert r.energy_wh["solar"] == MeterEnergy(imported_wh=None, exported_wh=9000)
    assert r.soe_percent_raw == 52.5 and r.soe_percent_app == pytest.approx(50.0)
    assert (r.capacity_wh, r.energy_remaining_wh) == (13500, 6750)
    assert (r.grid_status, r.backup_reserve_percent_app, r.operating_mode) == (
        "UP",
        20.0,
        "self_consumption",
    )
    assert (r.time_remaining_hours, r.firmware_version, r.site_name) == (7.5, "25.10.1", "Home")
    assert r.batteries == (BatteryUnit("TG1", 13500, 6750, 1000),)
    assert r.strings == (SolarString("A", 300.5, 4.0, 1202, True),)
    assert dict(r.temperatures_c) == {"TETHC--1--TG1": 21.5}
    assert r.alerts == ("SystemConnectedToGrid",)
    assert r.verbatim["alerts"] == ["SystemConnectedToGrid"]
    assert r.verbatim["aggregates"] is calls[AGGREGATES]


@pytest.mark.parametrize("bad", ["52", True, [52], {"percentage": 52}])
def test_a_value_of_the_wrong_type_is_unknown(bad):
    r = readings_from_calls({"level()": bad, "get_reserve()": bad, "version()": 25}, "local_api")
    assert r.soe_percent_raw is None and r.soe_percent_app is None
    assert r.backup_reserve_percent_app is None
    assert r.firmware_version is None


@pytest.mark.parametrize(
    ("library", "served"),
    [
        (60.00000000000001, 60),
        (58.99999999999999, 59),
        (31.000000000000007, 31),
        (19.97, 20),
        (20.05263157894737, 20.1),
        (0, 0),
        (None, None),
    ],
)
def test_float_noise_in_reserve_values(library, served):
    readings = readings_from_calls({"get_reserve()": library}, "local_api")
    assert readings.backup_reserve_percent_app == served
    assert type(readings.backup_reserve_percent_app) is type(served)
