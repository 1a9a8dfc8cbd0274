"""Discovery payloads checked against Home Assistant's documented rules (tests/
home_assistant.py), and the entity polish: unknown instead of blank, display precision,
the Tesla app's names, one reserve entity, ids that agree with names."""

from __future__ import annotations

import jinja2
import pytest

from pypowerwall_server.models import BatteryUnit
from pypowerwall_server.mqtt.controls import BY_CONTROL, MQTT_CONTROLS, command_value
from pypowerwall_server.mqtt.devices import Topics, battery_device, gateway_device, site_device
from pypowerwall_server.mqtt.discovery import discovery_config
from tests.home_assistant import discovery_problems

TOPICS = Topics("pypowerwall", "homeassistant")
GATEWAY = gateway_device(TOPICS, "home", "Home")
DEVICES = [
    GATEWAY,
    battery_device(TOPICS, GATEWAY, 0, BatteryUnit("TG1", 1, 1, 1)),
    site_device(TOPICS),
]


def configs():
    for device in DEVICES:
        yield discovery_config(device, TOPICS, 60)
    yield discovery_config(GATEWAY, TOPICS, 60, MQTT_CONTROLS)


@pytest.mark.parametrize("config", list(configs()), ids=lambda c: c["dev"]["ids"][0])
def test_discovery_payloads_follow_home_assistant_rules(config):
    assert discovery_problems(config) == []


def test_rules_catch_what_home_assistant_refuses():
    bad = discovery_config(GATEWAY, TOPICS, 60)
    bad["cmps"]["grid_power"]["unit_of_measurement"] = "Wh"
    bad["cmps"]["solar_energy"]["state_class"] = "measurement"
    bad["cmps"]["battery_level"].pop("suggested_display_precision")
    bad["cmps"]["grid_voltage"]["name"] = "Site voltage"
    problems = discovery_problems(bad)
    assert len(problems) == 4, problems


def render(template: str, value: object) -> str:
    """A template as Home Assistant renders it against the state JSON."""
    return jinja2.Environment().from_string(template).render(value_json={"k": value})


def component(key, controls=()):
    return discovery_config(GATEWAY, TOPICS, 60, controls)["cmps"][key]


@pytest.mark.parametrize("key", ["last_error", "degraded_reason", "firmware", "transport"])
@pytest.mark.parametrize("value", [None, ""])
def test_empty_text_states_become_unknown(key, value):
    template = component(key)["value_template"].replace(f"value_json.{key}", "value_json.k")
    assert render(template, value) == "None"  # Home Assistant's word for unknown
    assert render(template, "timed out") == "timed out"


@pytest.mark.parametrize(
    ("key", "precision"),
    [("battery_level", 1), ("grid_power", 0), ("grid_import_energy", 0), ("grid_frequency", 2)],
)
def test_every_numeric_sensor_has_suggested_display_precision(key, precision):
    assert component(key)["suggested_display_precision"] == precision


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("operating_mode", "self_consumption", "Self-Powered"),
        ("operating_mode", "autonomous", "Time-Based Control"),
        ("operating_mode", "backup", "Backup"),
        ("operating_mode", None, "None"),
        ("export_rule", "pv_only", "Solar only"),
        ("export_rule", "battery_ok", "Everything"),
        ("export_rule", "never", "No export"),
    ],
)
def test_modes_and_export_rules_show_tesla_app_names(key, value, shown):
    sensor = component(key)
    assert (
        render(sensor["value_template"].replace(f"value_json.{key}", "value_json.k"), value)
        == shown
    )
    select = component(f"set_{key}", MQTT_CONTROLS)
    assert (
        render(select["value_template"].replace(f"value_json.{key}", "value_json.k"), value)
        == shown
    )
    if value is not None:
        assert shown in sensor["options"] and shown in select["options"]


@pytest.mark.parametrize(
    ("payload", "value"),
    [(b"Time-Based Control", "autonomous"), (b"self_consumption", "self_consumption")],
)
def test_a_select_command_takes_the_app_name_or_the_api_value(payload, value):
    row = next(r for r in MQTT_CONTROLS if r.key == "set_operating_mode")
    assert command_value(row, payload) == value


def test_one_backup_reserve_entity_a_number():
    with_controls = discovery_config(GATEWAY, TOPICS, 60, MQTT_CONTROLS)["cmps"]
    assert with_controls["backup_reserve"] == {"p": "sensor"}  # removes the old sensor
    assert with_controls["set_backup_reserve"]["p"] == "number"
    reserve = [c for c in with_controls.values() if "backup_reserve" in c.get("value_template", "")]
    assert len(reserve) == 1
    assert component("backup_reserve")["p"] == "sensor"  # control off: the sensor stays


def test_site_voltage_named_grid_voltage():
    grid = component("grid_voltage")
    assert grid["name"] == "Grid voltage"
    assert grid["default_entity_id"] == "sensor.pypowerwall_home_grid_voltage"
    assert component("home_current")["name"] == "Home current"
    assert BY_CONTROL  # the controls table is there to be checked by the rules above
