"""Home Assistant device-based discovery: one retained config per device, with `dev`
(the device), `o` (origin: this server) and `cmps` (one component per metrics-table row).
Pure: built from a Device and the table, snapshot-tested.

Each component: stable `unique_id` (<node>_<key>), `default_entity_id` (<platform>.<slug>;
the old `object_id` no longer works), `expire_after` (stale data turns unavailable), and the
row's unit, device class, state class, entity category, enabled-by-default and, on numeric
sensors, `suggested_display_precision`. A gateway's controls (controls.py) join its `cmps`
as `config` components with a `command_topic`; a setting with a control is that one entity
(the reserve is a number, not also a sensor). A value the server does not know is `null` in
the state JSON; every template renders it (and an empty text) as "None", which Home
Assistant shows as unknown. Enum rows with labels show the Tesla app's names.
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server import __version__
from pypowerwall_server.metrics import Metric
from pypowerwall_server.mqtt.controls import MqttControl, control_components, label_template
from pypowerwall_server.mqtt.devices import ATTRIBUTES_KEY, Device, Topics

ORIGIN = {"name": "pypowerwall-server", "sw": __version__}
MODELS = {"gateway": "Tesla Energy Gateway", "battery": "Powerwall", "site": "Site total"}
# Digits Home Assistant shows, per unit: the gateway's own precision (W and Wh are whole).
DISPLAY_PRECISION = {"W": 0, "Wh": 0, "%": 1, "V": 1, "A": 1, "Hz": 2, "h": 1, "s": 0, "°C": 1}


def discovery_config(
    device: Device,
    topics: Topics,
    expire_after: int | None,
    controls: tuple[MqttControl, ...] = (),
) -> dict[str, Any]:
    """`controls`: a gateway's controls over MQTT (controls.py), when control is on."""
    availability: list[dict[str, str]] = [{"topic": topics.status}]
    if device.gateway_id is not None:
        availability.append({"topic": topics.availability(device.gateway_id)})
    replaced = {row.state_key for row in controls if row.replaces_sensor}
    components = {}
    for metric in device.metrics:
        if metric.key in replaced:  # only `p`: Home Assistant removes an earlier sensor
            components[metric.key] = {"p": metric.platform}
            continue
        components[metric.key] = _component(metric, device, expire_after)
    if controls:
        components.update(control_components(device, topics, controls))
    return {
        "dev": _device_block(device),
        "o": ORIGIN,
        "cmps": components,
        "state_topic": device.state_topic,
        "availability": availability,
        "availability_mode": "all",
        "qos": 0,
    }


def _device_block(device: Device) -> dict[str, Any]:
    block: dict[str, Any] = {
        "ids": [device.node],
        "name": device.name,
        "mf": "Tesla",
        "mdl": MODELS[device.kind],
    }
    if device.serial:
        block["sn"] = device.serial
    if device.via:
        block["via_device"] = device.via
    return block


def _component(metric: Metric[Any], device: Device, expire_after: int | None) -> dict[str, Any]:
    key = metric.key
    component: dict[str, Any] = {
        "p": metric.platform,
        "name": metric.name,
        "unique_id": f"{device.node}_{key}",
        "default_entity_id": f"{metric.platform}.{device.entity_base}_{key}",
        "value_template": _template(metric),
    }
    optional = {
        "device_class": metric.device_class,
        "unit_of_measurement": metric.unit,
        "state_class": metric.state_class,
        "entity_category": metric.entity_category,
        "options": list(metric.options) if metric.options else None,
        "expire_after": expire_after,
    }
    component.update({k: v for k, v in optional.items() if v is not None})
    if metric.platform == "sensor" and metric.numeric:
        component["suggested_display_precision"] = DISPLAY_PRECISION.get(metric.unit or "", 0)
    if metric.labels is not None and metric.options is not None:
        component["options"] = [metric.labels[option] for option in metric.options]
    if not metric.enabled_by_default:
        component["enabled_by_default"] = False
    if metric.platform == "binary_sensor":
        component.update(payload_on="ON", payload_off="OFF")
    if metric.attributes is not None:
        component["json_attributes_topic"] = device.state_topic
        component["json_attributes_template"] = (
            f"{{{{ value_json.{ATTRIBUTES_KEY}.{key} | default({{}}) | tojson }}}}"
        )
    return component


def _template(metric: Metric[Any]) -> str:
    value = f"value_json.{metric.key}"
    if metric.platform == "binary_sensor":
        return f"{{{{ 'None' if {value} is none else ('ON' if {value} else 'OFF') }}}}"
    if metric.labels is not None and metric.options is not None:
        return label_template(value, {option: metric.labels[option] for option in metric.options})
    if metric.numeric:
        return f"{{{{ {value} }}}}"  # null renders None
    return f"{{{{ 'None' if {value} is none or {value} == '' else {value} }}}}"
