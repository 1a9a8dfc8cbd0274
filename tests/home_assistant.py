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

# The state classes each sensor device class allows (Home Assistant's
# DEVICE_CLASS_STATE_CLASSES); a sensor without a device class may have any.
DEVICE_CLASS_STATE_CLASSES: dict[str, set[str | None]] = {
    "power": {None, "measurement"},
    "energy": {None, "total", "total_increasing"},
    "energy_storage": {None, "measurement"},
    "battery": {None, "measurement"},
    "voltage": {None, "measurement"},
    "current": {None, "measurement"},
    "frequency": {None, "measurement"},
    "duration": {None, "measurement", "total", "total_increasing"},
    "temperature": {None, "measurement"},
    "enum": {None},
}
CONTROL_PLATFORMS = {"number", "select", "switch", "button"}
# Words a key may carry that its name says otherwise ("Set ...", "Hottest ...", "Battery").
KEY_QUALIFIERS = {"set", "max", "raw", "energy", "level"}


def _sensor_problems(key: str, c: dict[str, object]) -> list[str]:
    problems = []
    device_class = c.get("device_class")
    unit, state_class = c.get("unit_of_measurement"), c.get("state_class")
    precision = c.get("suggested_display_precision")
    numeric = unit is not None or state_class is not None or precision is not None
    if device_class is not None:
        if device_class not in SENSOR_UNITS:
            problems.append(f"{key}: unknown device class {device_class}")
        elif unit not in SENSOR_UNITS[device_class]:
            problems.append(f"{key}: unit {unit} invalid for {device_class}")
        elif state_class not in DEVICE_CLASS_STATE_CLASSES[device_class]:
            problems.append(f"{key}: state class {state_class} invalid for {device_class}")
    if state_class not in STATE_CLASSES:
        problems.append(f"{key}: unknown state class {state_class}")
    if (device_class == "enum") != ("options" in c):
        problems.append(f"{key}: options go with device class enum, and only there")
    if device_class == "enum" and numeric:
        problems.append(f"{key}: an enum has no unit, state class or precision")
    if numeric and precision is None:
        problems.append(f"{key}: numeric sensor without suggested_display_precision")
    if c.get("entity_category") == "config":
        problems.append(f"{key}: a sensor cannot be a config entity")
    return problems


def _binary_problems(key: str, c: dict[str, object]) -> list[str]:
    problems = []
    if c.get("device_class") not in BINARY_DEVICE_CLASSES:
        problems.append(f"{key}: unknown binary sensor device class")
    extra = {"unit_of_measurement", "state_class", "options", "suggested_display_precision"}
    if extra & c.keys():
        problems.append(f"{key}: binary sensor with {sorted(extra & c.keys())}")
    return problems


def _name_problems(key: str, c: dict[str, object]) -> list[str]:
    """The entity id's words are the name's (no sensor.x_site_voltage named "Grid voltage")."""
    name_words = str(c["name"]).lower().replace("-", " ").split()
    key_words = [w for w in key.split("_") if w not in KEY_QUALIFIERS]
    missing = [w for w in key_words if not any(n.startswith(w) for n in name_words)]
    entity = str(c["default_entity_id"])
    problems = [f"{key}: id words {missing} not in name {c['name']!r}"] if missing else []
    if not entity.endswith(f"_{key}") or not str(c["unique_id"]).endswith(f"_{key}"):
        problems.append(f"{key}: unique_id and default_entity_id must end with the key")
    return problems


def discovery_problems(config: dict[str, object]) -> list[str]:
    """What Home Assistant would refuse or show wrongly in one device discovery payload."""
    problems: list[str] = []
    components = config["cmps"]
    assert isinstance(components, dict)
    for key, c in components.items():
        if set(c) == {"p"}:  # removes an entity published earlier
            continue
        platform = c["p"]
        for required in ("name", "unique_id", "default_entity_id"):
            if not c.get(required):
                problems.append(f"{key}: no {required}")
        if not str(c.get("default_entity_id", "")).startswith(f"{platform}."):
            problems.append(f"{key}: default_entity_id of another platform")
        problems += _name_problems(key, c) if c.get("name") else []
        if platform == "sensor":
            problems += _sensor_problems(key, c)
        elif platform == "binary_sensor":
            problems += _binary_problems(key, c)
        elif platform in CONTROL_PLATFORMS:
            if "command_topic" not in c:
                problems.append(f"{key}: a control without command_topic")
        elif platform == "event":  # MQTT event: a state topic and its non-empty event types
            if not c.get("state_topic") or not c.get("event_types"):
                problems.append(f"{key}: an event needs state_topic and event_types")
        else:
            problems.append(f"{key}: unknown platform {platform}")
    return problems
