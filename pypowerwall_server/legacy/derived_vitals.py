"""strings(), temps(), alerts() and battery_blocks(): computed from `vitals()` (plus
/api/solar_powerwall where the library falls back to it) the way pypowerwall 0.22.2 does.

They return None when none of their sources answered, so the routes built on them can say
"no data" instead of the library's empty {} / [].  Device blocks that are not dicts are
skipped (the library would raise).
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.derived import GRID_STATUS, SOLAR_POWERWALL
from pypowerwall_server.legacy.view import CallView

VITALS = "vitals()"
SYSTEM_STATUS_CALL = "system_status()"
_STRING_MARKERS = (
    "PVAC_PVCurrent",
    "PVAC_PVMeasuredPower",
    "PVAC_PVMeasuredVoltage",
    "PVAC_PvState",
    "PVS_String",
)
_DEVICE_SUFFIX = ("", "1", "2", "3", "4", "5", "6", "7", "8")
_STRING_NAMES = tuple(letter + n for n in _DEVICE_SUFFIX for letter in "ABCD")


def _vitals(view: CallView) -> dict[str, Any] | None:
    value = view.get(VITALS)
    return value if isinstance(value, dict) else None


def _dict_or_empty(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def strings(view: CallView, verbose: bool) -> dict[str, Any] | None:
    vitals = _vitals(view) or {}
    if vitals:
        return _strings_from_vitals(vitals, verbose)
    payload = view.get(SOLAR_POWERWALL)
    if not isinstance(payload, dict) or "pvac_status" not in payload:
        return None
    return _strings_from_solar_powerwall(_dict_or_empty(payload["pvac_status"]))


def _pvac_block(vitals: dict[str, Any], device: str) -> dict[str, Any]:
    """The PVAC block with its PVS twin's String* signals merged in (a copy)."""
    block = dict(vitals[device])
    twin = _dict_or_empty(vitals.get("PVS" + device[4:]))
    block.update({key: value for key, value in twin.items() if "String" in key})
    return block


def _is_string_signal(key: str) -> bool:
    return any(marker in key for marker in _STRING_MARKERS)


def _strings_from_vitals(vitals: dict[str, Any], verbose: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    index = 0
    for device, data in vitals.items():
        if device.split("--")[0] != "PVAC" or not isinstance(data, dict):
            continue
        block = _pvac_block(vitals, device)
        signals = {key: value for key, value in block.items() if _is_string_signal(key)}
        if verbose:
            result[device] = {"PVAC_Pout": block.get("PVAC_Pout"), **signals}
            continue
        suffix = _DEVICE_SUFFIX[index % len(_DEVICE_SUFFIX)]
        for key, value in signals.items():
            name, field = _simple_string_name(key, suffix)
            result.setdefault(name, {})[field] = value
        index += 1
    return result


def _simple_string_name(key: str, suffix: str) -> tuple[str, str]:
    """'PVAC_PVCurrent_A' -> ('A', 'Current'); 'PVS_StringB_Connected' -> ('B', 'Connected')."""
    for field in ("Current", "Power", "Voltage", "State"):
        if field in key:
            return key[-1] + suffix, field
    if "Connected" in key and len(key) > 10:
        return key[10] + suffix, "Connected"
    return key[-1] + suffix, "Unknown"


def _strings_from_solar_powerwall(pvac: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    entries = pvac.get("string_vitals")
    if not isinstance(entries, list):
        return result
    for name, entry in zip(_STRING_NAMES, entries, strict=False):
        data = _dict_or_empty(entry)
        result[name] = {
            "Connected": data.get("connected"),
            "Voltage": data.get("measured_voltage"),
            "Current": data.get("current"),
            "Power": data.get("measured_power"),
        }
    return result


def temps(view: CallView) -> dict[str, Any] | None:
    """Thermal controller ambient (PW2) or, once any PW3 pack reports one, every PW3
    pack's HVP_PackTempMax."""
    vitals = _vitals(view)
    if vitals is None:
        return None
    devices = {name: data for name, data in vitals.items() if isinstance(data, dict)}
    pw3 = [name for name, data in devices.items() if _is_pw3_pack(name, data)]
    pw3_reading = any(devices[name]["HVP_PackTempMax"] is not None for name in pw3)
    result: dict[str, Any] = {}
    for name, data in devices.items():
        if name.startswith("TETHC"):
            result[name] = data.get("THC_AmbientTemp")
        elif pw3_reading and name in pw3:
            result[name] = data["HVP_PackTempMax"]
    return result


def _is_pw3_pack(name: str, data: dict[str, Any]) -> bool:
    return name.startswith("TEPOD") and "HVP_PackTempMax" in data


def alerts(view: CallView) -> list[str] | None:
    """Device alerts plus the grid alert; sorted (the library's order is set order)."""
    vitals = _vitals(view)
    fallback = view.get(SOLAR_POWERWALL)
    if not vitals and not (isinstance(fallback, dict) and fallback):
        return None
    found = _vitals_alerts(vitals) if vitals else _solar_powerwall_alerts(_dict_or_empty(fallback))
    found |= _grid_alerts(view.get(GRID_STATUS))
    return sorted({name.replace("SystemGridConnected", "SystemConnectedToGrid") for name in found})


def _vitals_alerts(vitals: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for data in vitals.values():
        names = data.get("alerts") if isinstance(data, dict) else None
        if isinstance(names, list):
            found.update(name for name in names if isinstance(name, str))
    return found


def _solar_powerwall_alerts(payload: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for group in ("pvac_alerts", "pvs_alerts"):
        flags = _dict_or_empty(payload.get(group))
        found.update(name for name, value in flags.items() if value is True)
    return found


def _grid_alerts(payload: Any) -> set[str]:
    if not isinstance(payload, dict) or not payload:
        return set()
    if payload.get("grid_services_active"):
        return {"GridServicesActive"}
    state = payload.get("grid_status")
    return {state} if isinstance(state, str) and state else set()


def battery_blocks(view: CallView) -> dict[Any, Any] | None:
    """system_status() battery blocks keyed by serial, merged with TETHC state/temperature."""
    status = view.get(SYSTEM_STATUS_CALL)
    if not isinstance(status, dict):
        return None
    result: dict[Any, Any] = {}
    blocks = status.get("battery_blocks")
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict):
            serial = block.get("PackageSerialNumber")
            result[serial] = {k: v for k, v in block.items() if k != "PackageSerialNumber"}
    for name, data in (_vitals(view) or {}).items():
        parts = name.split("--")
        if name.startswith("TETHC--") and len(parts) > 2 and isinstance(data, dict):
            entry = result.setdefault(parts[2], {})
            entry["THC_State"] = data.get("THC_State")
            entry["temperature"] = data.get("THC_AmbientTemp")
    return result
