"""The controls Home Assistant gets over MQTT: one row each (reserve `number`, mode and export
rule `select`, grid charging `switch`, reserve hold `button`; on v1r the battery dispatch
pair: a power `number` that dispatches for DISPATCH_SECONDS and a resume `button`), their
discovery components and the parsing of a command payload into the control layer's request
fields. Pure.

Command topic: `<prefix>/gateway/<id>/set/<control>` (control: the control layer's name,
e.g. `reserve`). A control's state is the gateway's state JSON (its read-back after every
write), read by the row's state key; `None` there shows as unknown in Home Assistant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pypowerwall_server.control.commands import APP_NAMES, Control, ExportRule, OperatingMode
from pypowerwall_server.control.values import MAX_VALUE_CHARS
from pypowerwall_server.mqtt.devices import Device, Topics

ControlPlatform = Literal["number", "select", "switch", "button"]
PRESS, ON, OFF = "PRESS", "ON", "OFF"
MAX_PAYLOAD_BYTES = MAX_VALUE_CHARS  # longer command payloads are refused unread
_PERCENT = re.compile(r"[0-9]{1,3}(\.0+)?")  # Home Assistant sends 80 or 80.0 for a step of 1
_WATTS = re.compile(r"-?[0-9]{1,6}(\.0+)?")
DISPATCH_SECONDS = 900  # one number command dispatches this long; an automation renews it
DISPATCH_RANGE_W = 30000  # the number's range; the site's own limits are checked per write


@dataclass(frozen=True, slots=True)
class MqttControl:
    control: Control
    key: str  # the component key in `cmps` (unique_id <node>_<key>)
    name: str
    platform: ControlPlatform
    state_key: str | None  # the gateway state JSON key that reads it back (a button: none)
    extra: Mapping[str, Any] = field(default_factory=dict)  # platform-specific discovery keys
    value_field: str = "value"  # the request field the payload fills
    fixed: Mapping[str, object] = field(default_factory=dict)  # further request fields
    # The control shows the same value as the sensor of its state_key, which it then replaces
    # (one entity for the reserve); the dispatch number shows battery power, a sensor kept.
    replaces_sensor: bool = False

    def fields(self, value: object) -> dict[str, object]:
        """The control layer's request fields for a command's value."""
        return {self.value_field: value, **self.fixed}


MQTT_CONTROLS: tuple[MqttControl, ...] = (
    MqttControl(Control.RESERVE, "set_backup_reserve", "Set backup reserve", "number",
                "backup_reserve",
                {"min": 0, "max": 100, "step": 1, "mode": "slider", "unit_of_measurement": "%"},
                replaces_sensor=True),
    MqttControl(Control.MODE, "set_operating_mode", "Set operating mode", "select",
                "operating_mode", {"options": [APP_NAMES[m] for m in OperatingMode]}),
    MqttControl(Control.GRID_EXPORT, "set_export_rule", "Set export rule", "select",
                "export_rule", {"options": [APP_NAMES[r] for r in ExportRule]}),
    MqttControl(Control.GRID_CHARGING, "set_grid_charging", "Allow grid charging", "switch",
                "grid_charging", {"payload_on": ON, "payload_off": OFF}),
    MqttControl(Control.RESERVE_HOLD, "hold_reserve", "Hold reserve at current charge",
                "button", None, {"payload_press": PRESS}),
    # Shows the battery power (its read-back); + discharges, - charges, below the reserve
    # and exporting whatever the export rule says, for DISPATCH_SECONDS.
    MqttControl(Control.DISPATCH, "dispatch_battery_power", "Battery dispatch power (15 min)",
                "number", "battery_power",
                {"min": -DISPATCH_RANGE_W, "max": DISPATCH_RANGE_W, "step": 100, "mode": "box",
                 "unit_of_measurement": "W", "device_class": "power"},
                value_field="power_w", fixed={"duration_s": DISPATCH_SECONDS}),
    MqttControl(Control.RESUME, "resume_battery", "Resume battery operation", "button", None,
                {"payload_press": PRESS}),
)  # fmt: skip
BY_CONTROL = {row.control: row for row in MQTT_CONTROLS}


def command_topic(topics: Topics, gateway_id: str, control: Control) -> str:
    return f"{topics.prefix}/gateway/{gateway_id}/set/{control.value}"


def command_wildcard(topics: Topics) -> str:
    return f"{topics.prefix}/gateway/+/set/+"


def parse_command_topic(topics: Topics, topic: str) -> tuple[str, str] | None:
    """(gateway id, control name) of a command topic; None for any other topic."""
    head = f"{topics.prefix}/gateway/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) != 3 or parts[1] != "set":
        return None
    return parts[0], parts[2]


def offered(supported: Iterable[Control]) -> tuple[MqttControl, ...]:
    """The MQTT controls a gateway's write transport supports, in table order."""
    can = set(supported)
    return tuple(row for row in MQTT_CONTROLS if row.control in can)


def control_components(
    device: Device, topics: Topics, rows: Iterable[MqttControl]
) -> dict[str, dict[str, Any]]:
    """The `cmps` entries of a gateway's controls (entity category `config`)."""
    assert device.gateway_id is not None
    components = {}
    for row in rows:
        component: dict[str, Any] = {
            "p": row.platform,
            "name": row.name,
            "unique_id": f"{device.node}_{row.key}",
            "default_entity_id": f"{row.platform}.{device.entity_base}_{row.key}",
            "command_topic": command_topic(topics, device.gateway_id, row.control),
            "entity_category": "config",
            "qos": 1,  # a command is worth delivering once
            **row.extra,
        }
        if row.state_key is not None:
            component["state_topic"] = device.state_topic
            component["value_template"] = _state_template(row)
        components[row.key] = component
    return components


def _state_template(row: MqttControl) -> str:
    """The read-back; "None" is Home Assistant's word for unknown (number, select, switch)."""
    value = f"value_json.{row.state_key}"
    if row.platform == "switch":
        return f"{{{{ 'None' if {value} is none else ('{ON}' if {value} else '{OFF}') }}}}"
    if row.platform == "select":
        options = row.extra["options"]
        return label_template(value, {v: n for v, n in APP_NAMES.items() if n in options})
    return f"{{{{ 'None' if {value} is none else {value} }}}}"


def label_template(value: str, labels: Mapping[str, str]) -> str:
    """A template showing each value's label; anything else (null included) is unknown."""
    pairs = ", ".join(f"'{option}': '{label}'" for option, label in labels.items())
    return f"{{{{ {{{pairs}}}.get({value}, 'None') }}}}"


def _select_value(text: str) -> str:
    """A select's payload: the Tesla app's name Home Assistant sends, or the API's value."""
    return next((value for value, name in APP_NAMES.items() if name == text), text)


def command_value(row: MqttControl, payload: bytes) -> object:
    """The control layer's `value` field for a command payload: what its parser validates.
    A payload that cannot be one (not text, too long, not a switch or button word) becomes
    a value the parser refuses, so every refusal takes one path."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return payload  # bytes: refused as not text
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return payload
    match row.platform:
        case "number":
            pattern = _WATTS if row.control is Control.DISPATCH else _PERCENT
            return int(float(text)) if pattern.fullmatch(text) else text
        case "switch":
            return {ON: "true", OFF: "false"}.get(text.upper(), text or payload)
        case "button":
            return "" if text == PRESS else text or payload  # reserve_hold takes no value
        case "select":
            return _select_value(text)
