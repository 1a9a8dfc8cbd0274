"""Home Assistant device-based discovery: one retained config per device, with `dev`
(the device), `o` (origin: this server) and `cmps` (one component per metrics-table row).
Pure: built from a Device and the table, snapshot-tested.

Each component: stable `unique_id` (<node>_<key>), `default_entity_id` (<platform>.<slug>;
the old `object_id` no longer works), `expire_after` (stale data turns unavailable), and the
row's unit, device class, state class, entity category and enabled-by-default. A gateway's
controls (controls.py) join its `cmps` as `config` components with a `command_topic`. A value the
server does not know is `null` in the state JSON. Home Assistant turns a numeric sensor's
`None` into unknown (an energy counter is never 0) and a binary sensor's too; a text sensor
would show the word, so its template renders nothing; an enum sensor (whose state must be
one of its options) is unavailable while its value is unknown (its own availability).
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server import __version__
from pypowerwall_server.metrics import Metric
from pypowerwall_server.mqtt.controls import MqttControl, control_components
from pypowerwall_server.mqtt.devices import ATTRIBUTES_KEY, Device, Topics

ORIGIN = {"name": "pypowerwall-server", "sw": __version__}
MODELS = {"gateway": "Tesla Energy Gateway", "battery": "Powerwall", "site": "Site total"}


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
    components = {}
    for metric in device.metrics:
        component = _component(metric, device, expire_after)
        if metric.device_class == "enum":
            component["availability"] = [*availability, _known(metric, device)]
            component["availability_mode"] = "all"
        components[metric.key] = component
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
    if metric.numeric or metric.device_class == "enum":
        return f"{{{{ {value} }}}}"
    return f"{{{{ '' if {value} is none else {value} }}}}"  # text: empty, not the word None


def _known(metric: Metric[Any], device: Device) -> dict[str, str]:
    """Availability from the state itself: online while this value is known."""
    value = f"value_json.{metric.key}"
    return {
        "topic": device.state_topic,
        "value_template": f"{{{{ 'offline' if {value} is none else 'online' }}}}",
    }
