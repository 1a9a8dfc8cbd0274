"""Home Assistant's rules for the entity descriptions we publish (the subset we use): the
units each sensor device class accepts, and the binary sensor device classes."""

from __future__ import annotations

SENSOR_UNITS: dict[str, set[str | None]] = {
    "power": {"W", "kW"},
    "energy": {"Wh", "kWh"},
    "energy_storage": {"Wh", "kWh"},
    "battery": {"%"},
    "voltage": {"V"},
    "current": {"A"},
    "frequency": {"Hz"},
    "duration": {"s", "min", "h", "d"},
    "temperature": {"°C", "°F"},
    "enum": {None},
}
BINARY_DEVICE_CLASSES = {None, "battery_charging", "connectivity", "problem"}
STATE_CLASSES = {None, "measurement", "total", "total_increasing"}
ENTITY_CATEGORIES = {None, "diagnostic", "config"}
