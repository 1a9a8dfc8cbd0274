"""The metrics table (metrics.py): every row's value from typed Readings, unknown stays None
(never 0), counters never go backwards, and the rows are valid Home Assistant descriptions."""

from __future__ import annotations

import pytest

from pypowerwall_server.gateway_state import TransportState, TransportStatus
from pypowerwall_server.metrics import (
    BATTERY_METRICS,
    GATEWAY_METRICS,
    SITE_METRICS,
    CounterGuard,
    GatewayView,
    Metric,
    battery_id,
    site_view,
    values_of,
)
from pypowerwall_server.models import BatteryUnit, MeterEnergy, MeterPower, Readings
from tests.home_assistant import BINARY_DEVICE_CLASSES, SENSOR_UNITS

AGGREGATES = {
    "site": {"instant_average_voltage": 241.5, "instant_average_current": 8.25, "frequency": 60.0},
    "load": {"instant_average_voltage": 240.0, "instant_average_current": 12.5, "frequency": 59.9},
}
FULL = GatewayView(
    Readings(
        power_w=MeterPower(site=-500.0, battery=-1200.0, load=3000.0, solar=4700.0),
        energy_wh={
            "site": MeterEnergy(imported_wh=1000.0, exported_wh=2000.0),
            "solar": MeterEnergy(imported_wh=None, exported_wh=3000.0),
            "load": MeterEnergy(imported_wh=4000.0, exported_wh=None),
            "battery": MeterEnergy(imported_wh=5000.0, exported_wh=6000.0),
        },
        soe_percent_raw=52.5,
        soe_percent_app=50.0,
        capacity_wh=13500.0,
        energy_remaining_wh=6750.0,
        grid_status="UP",
        grid_charging=False,
        grid_export="pv_only",
        backup_reserve_percent_app=20.0,
        operating_mode="self_consumption",
        time_remaining_hours=7.5,
        firmware_version="25.10.1",
        batteries=(BatteryUnit("TG1", 13500.0, 6750.0, -1200.0),),
        temperatures_c={"TETHC--1--TG1": 21.5, "TETHC--2--TG2": 24.0, "PVAC": None},
        alerts=("SystemConnectedToGrid", "FWUpdateSucceeded"),
        verbatim={"aggregates": AGGREGATES},
    ),
    mode="tedapi",
    online=True,
    age_seconds=1.5,
    last_error=None,
    transport=TransportStatus(
        "v1r",
        (
            TransportState("tedapi", "failing", 1000.0, 3, "timed out", 1300.0),
            TransportState("v1r", "ok", None, 0, "battery data missing", None),
        ),
        failovers=1,
        recoveries=0,
        degraded="battery data missing",
    ),
)

# key → the value from FULL. Every row of the table must be here (checked below).
EXPECTED = {
    "grid_power": -500.0,
    "solar_power": 4700.0,
    "home_power": 3000.0,
    "battery_power": -1200.0,
    "grid_voltage": 241.5,
    "grid_current": 8.25,
    "grid_frequency": 60.0,
    "home_voltage": 240.0,
    "home_current": 12.5,
    "home_frequency": 59.9,
    "grid_import_energy": 1000.0,
    "grid_export_energy": 2000.0,
    "solar_energy": 3000.0,
    "home_energy": 4000.0,
    "battery_charge_energy": 5000.0,
    "battery_discharge_energy": 6000.0,
    "battery_level": 50.0,
    "battery_level_raw": 52.5,
    "energy_remaining": 6750.0,
    "full_pack_energy": 13500.0,
    "time_remaining": 7.5,
    "battery_charging": True,
    "grid_status": "UP",
    "grid_connected": True,
    "backup_reserve": 20.0,
    "operating_mode": "self_consumption",
    "export_rule": "pv_only",
    "grid_charging": False,
    "firmware": "25.10.1",
    "connection_mode": "tedapi",
    "online": True,
    "data_age": 1.5,
    "last_error": None,
    "transport": "v1r",
    "on_fallback": True,
    "degraded": True,
    "degraded_reason": "battery data missing",
    "alerts": 2,
    "temperature_max": 24.0,
}
# Rows that describe the server's connection, not the gateway's data.
CONNECTION_ROWS = {"connection_mode", "online", "data_age", "last_error"}

ALL_ROWS: list[Metric[object]] = [*GATEWAY_METRICS, *BATTERY_METRICS]  # type: ignore[list-item]


def test_every_gateway_row_reads_its_value_from_typed_readings():
    assert set(EXPECTED) == {m.key for m in GATEWAY_METRICS}
    assert values_of(GATEWAY_METRICS, FULL, "home", None) == EXPECTED


def test_nothing_known_means_every_data_row_is_none_never_zero():
    values = values_of(GATEWAY_METRICS, GatewayView(Readings()), "home", None)
    assert all(value is None for value in values.values()), values


@pytest.mark.parametrize(
    ("counter", "expected"),
    [
        (MeterEnergy(imported_wh=None, exported_wh=None), None),
        (MeterEnergy(imported_wh=0.0, exported_wh=None), None),  # 0: not known yet
        (MeterEnergy(imported_wh=-3.0, exported_wh=None), None),
        (MeterEnergy(imported_wh=12.5, exported_wh=None), 12.5),
    ],
)
def test_an_energy_counter_is_withheld_unless_positive(counter, expected):
    view = GatewayView(Readings(energy_wh={"site": counter}))
    assert values_of(GATEWAY_METRICS, view, "home", None)["grid_import_energy"] == expected


@pytest.mark.parametrize(
    ("battery_w", "charging"), [(-1200.0, True), (-20.0, False), (0.0, False), (800.0, False)]
)
def test_charging_means_power_flowing_into_the_battery(battery_w, charging):
    view = GatewayView(Readings(power_w=MeterPower(0.0, battery_w, 0.0, 0.0)))
    assert values_of(GATEWAY_METRICS, view, "home", None)["battery_charging"] is charging


@pytest.mark.parametrize(
    ("status", "text", "connected"),
    [("UP", "UP", True), ("DOWN", "DOWN", False), ("SYNCING", "SYNCING", False), ("?", None, None)],
)
def test_grid_status_and_connected(status, text, connected):
    values = values_of(GATEWAY_METRICS, GatewayView(Readings(grid_status=status)), "home", None)
    assert (values["grid_status"], values["grid_connected"]) == (text, connected)


@pytest.mark.parametrize(("rule", "shown"), [("never", "never"), ("sometimes", None), (None, None)])
def test_export_rule_is_one_of_its_options(rule, shown):
    view = GatewayView(Readings(grid_export=rule))
    assert values_of(GATEWAY_METRICS, view, "home", None)["export_rule"] == shown


def test_alerts_and_temperatures_carry_their_lists_as_attributes():
    rows = {m.key: m for m in GATEWAY_METRICS}
    assert rows["alerts"].attributes is not None
    assert rows["alerts"].attributes(FULL) == {
        "alerts": ["SystemConnectedToGrid", "FWUpdateSucceeded"]
    }
    assert rows["temperature_max"].attributes is not None
    assert rows["temperature_max"].attributes(FULL) == {
        "temperatures_c": {"TETHC--1--TG1": 21.5, "TETHC--2--TG2": 24.0, "PVAC": None}
    }


def test_battery_rows_and_ids():
    unit = FULL.readings.batteries[0]
    assert values_of(BATTERY_METRICS, unit, "home/TG1", None) == {
        "energy_remaining": 6750.0,
        "capacity": 13500.0,
        "power": -1200.0,
    }
    assert battery_id(0, unit) == "TG1"
    assert battery_id(2, BatteryUnit(None, None, None, None)) == "battery3"
    assert all(
        v is None
        for v in values_of(BATTERY_METRICS, BatteryUnit(None, None, None, None), "x", None).values()
    )


# --- the counter guard: (readings in order) → what is shown -------------------------
@pytest.mark.parametrize(
    ("readings", "shown"),
    [
        ([100.0, 110.0, 120.0], [100.0, 110.0, 120.0]),
        ([100.0, None, 120.0], [100.0, None, 120.0]),
        ([100.0, 5.0, 100.0, 101.0], [100.0, None, 100.0, 101.0]),  # a glitch is withheld
        ([100.0, 99.9, 99.9, 100.5], [100.0, None, None, 100.5]),
        ([100.0, 1.0, 2.0, 3.0], [100.0, None, None, 3.0]),  # reset_after=3: a real reset
    ],
)
def test_counter_guard_never_goes_backwards(readings, shown):
    guard = CounterGuard(reset_after=3)
    assert [guard.admit("home", "grid_import_energy", r) for r in readings] == shown


def test_counter_guard_keeps_devices_and_keys_apart_and_forgets_a_device():
    guard = CounterGuard()
    assert guard.admit("home", "a", 100.0) == 100.0
    assert guard.admit("cabin", "a", 5.0) == 5.0
    assert guard.admit("home", "b", 5.0) == 5.0
    assert guard.admit("home", "a", 50.0) is None
    guard.forget("home")
    assert guard.admit("home", "a", 50.0) == 50.0


def test_values_of_passes_counters_through_the_guard_only():
    guard = CounterGuard()
    values_of(GATEWAY_METRICS, FULL, "home", guard)
    lower = GatewayView(
        Readings(
            power_w=MeterPower(1.0, 1.0, 1.0, 1.0),
            energy_wh={"site": MeterEnergy(imported_wh=900.0, exported_wh=2100.0)},
        )
    )
    values = values_of(GATEWAY_METRICS, lower, "home", guard)
    assert values["grid_import_energy"] is None  # went backwards: withheld
    assert values["grid_export_energy"] == 2100.0
    assert values["grid_power"] == 1.0  # a measurement may go anywhere


# --- the site total -------------------------------------------------------------------
POWER = {"site": 1.0, "battery": 2.0, "load": 6.0, "solar": 3.0}
SOE = {
    "percent_raw": 50.0,
    "percent_app": 47.4,
    "total_capacity_wh": 27000.0,
    "energy_remaining_wh": 13500.0,
}


def _counters(imported: float | None) -> GatewayView:
    return GatewayView(Readings(energy_wh={"site": MeterEnergy(imported, None)}))


@pytest.mark.parametrize(
    ("gateways", "all_fresh", "grid_import"),
    [
        ([_counters(100.0), _counters(50.0)], True, 150.0),
        ([_counters(100.0), _counters(None)], True, None),  # a partial sum would drop later
        ([_counters(100.0), _counters(50.0)], False, None),
    ],
)
def test_site_view_sums_counters_only_when_every_gateway_knows_them(
    gateways, all_fresh, grid_import
):
    view = site_view(POWER, SOE, gateways, all_fresh)
    values = values_of(SITE_METRICS, view, "site", None)
    assert values["grid_import_energy"] == grid_import
    assert (values["grid_power"], values["battery_power"]) == (1.0, 2.0)
    assert (values["home_power"], values["solar_power"]) == (6.0, 3.0)
    assert (values["battery_level"], values["battery_level_raw"]) == (47.4, 50.0)
    assert (values["full_pack_energy"], values["energy_remaining"]) == (27000.0, 13500.0)


def test_site_view_without_totals_is_unknown():
    values = values_of(SITE_METRICS, site_view(None, None, [], True), "site", None)
    assert all(value is None for value in values.values()), values


# --- the table itself -------------------------------------------------------------------
def test_keys_are_unique_per_subject():
    for table in (GATEWAY_METRICS, BATTERY_METRICS):
        keys = [m.key for m in table]
        assert len(keys) == len(set(keys))


@pytest.mark.parametrize("metric", ALL_ROWS, ids=lambda m: m.key)
def test_each_row_is_a_valid_home_assistant_description(metric):
    if metric.platform == "binary_sensor":
        assert metric.unit is None and metric.state_class is None
        assert metric.device_class in BINARY_DEVICE_CLASSES
        return
    if metric.device_class is not None:
        assert metric.unit in SENSOR_UNITS[metric.device_class]
    if metric.device_class == "enum":
        assert metric.options and metric.state_class is None
    if metric.counter:
        assert (metric.unit, metric.device_class) == ("Wh", "energy")
    if metric.device_class == "energy":
        assert metric.state_class == "total_increasing"


def test_site_rows_are_the_power_energy_and_battery_rows():
    assert {m.key for m in SITE_METRICS} == {
        "grid_power",
        "solar_power",
        "home_power",
        "battery_power",
        "grid_import_energy",
        "grid_export_energy",
        "solar_energy",
        "home_energy",
        "battery_charge_energy",
        "battery_discharge_energy",
        "battery_level",
        "battery_level_raw",
        "energy_remaining",
        "full_pack_energy",
        "battery_charging",
    }


def test_connection_rows_read_the_view_not_readings():
    bare = GatewayView(Readings(), mode="local", online=False, age_seconds=30.0, last_error="x")
    values = values_of(GATEWAY_METRICS, bare, "home", None)
    assert {k: values[k] for k in CONNECTION_ROWS} == {
        "connection_mode": "local",
        "online": False,
        "data_age": 30.0,
        "last_error": "x",
    }


@pytest.mark.parametrize(
    ("site", "voltage", "frequency"),
    [
        ({"instant_average_voltage": 0, "frequency": 0}, 0, None),  # 0 Hz is never measured
        ({"instant_average_voltage": "240", "frequency": True}, None, None),
        ({}, None, None),
    ],
)
def test_electrical_rows_keep_only_real_numbers(site, voltage, frequency):
    view = GatewayView(Readings(verbatim={"aggregates": {"site": site}}))
    values = values_of(GATEWAY_METRICS, view, "home", None)
    assert (values["grid_voltage"], values["grid_frequency"]) == (voltage, frequency)


def test_transport_rows_say_what_api_gateways_says_and_nothing_without_an_answer():
    healthy = TransportStatus(
        "tedapi", (TransportState("tedapi", "ok", None, 0, None, None),), 0, 0, None
    )
    answered = GatewayView(Readings(), age_seconds=1.0, transport=healthy)
    values = values_of(GATEWAY_METRICS, answered, "home", None)
    assert [values[k] for k in ("transport", "on_fallback", "degraded", "degraded_reason")] == [
        "tedapi",
        False,
        False,
        None,
    ]
    never_answered = GatewayView(Readings(), transport=healthy)  # no data: degraded unknown
    assert values_of(GATEWAY_METRICS, never_answered, "home", None)["degraded"] is None
