"""Home Assistant device-based discovery: one retained config per device, with `dev`
(the device), `o` (origin: this server) and `cmps` (one component per metrics-table row).
Pure: built from a Device and the table, snapshot-tested.

Each component: stable `unique_id` (<node>_<key>), `default_entity_id` (<platform>.<slug>;
the old `object_id` no longer works), `expire_after` (stale data turns unavailable), and the
row's unit, device class, state class, entity category and enabled-by-default. A value the
server does not know is `null` in the state JSON; the template renders it as `None`, which
Home Assistant shows as unknown (an energy counter is never 0).
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server import __version__
from pypowerwall_server.metrics import Metric
from pypowerwall_server.mqtt.devices import ATTRIBUTES_KEY, Device, Topics

ORIGIN = {"name": "pypowerwall-server", "sw": __version__}
MODELS = {"gateway": "Tesla Energy Gateway", "battery": "Powerwall", "site": "Site total"}


def discovery_config(device: Device, topics: Topics, expire_after: int | None) -> dict[str, Any]:
    availability = [{"topic": topics.status}]
    if device.gateway_id is not None:
        availability.append({"topic": topics.availability(device.gateway_id)})
    return {
        "dev": _device_block(device),
        "o": ORIGIN,
        "cmps": {m.key: _component(m, device, expire_after) for m in device.metrics},
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
    return f"{{{{ {value} }}}}"
