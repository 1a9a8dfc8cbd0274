"""/freq and /pod: per-Powerwall values from system_status() battery blocks and vitals().

Blocks and vitals devices are paired by position only (PW1, PW2, ... in list/dict order),
as the proxy does.  Where the proxy closed the connection we answer instead:
* `battery_blocks: null` (or not a list) counts as no blocks;
* a block or device that is not a dict counts as one with every field missing;
* a /pod flag that int() cannot convert (e.g. "yes") counts as 0.
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.responses import RouteResult, Unavailable, json_body
from pypowerwall_server.legacy.view import CallView

_FREQ_BLOCK_FIELDS = ("p_out", "q_out", "v_out", "f_out", "i_out")
_POD_FLAGS = (
    "POD_ActiveHeating",
    "POD_ChargeComplete",
    "POD_ChargeRequest",
    "POD_DischargeComplete",
    "POD_PermanentlyFaulted",
    "POD_PersistentlyFaulted",
    "POD_enable_line",
)
_POD_VALUES = (
    "POD_available_charge_power",
    "POD_available_dischg_power",
    "POD_nom_energy_remaining",
    "POD_nom_energy_to_be_charged",
    "POD_nom_full_pack_energy",
)
_POD_BLOCK_FIELDS = (
    "PackagePartNumber",
    "PackageSerialNumber",
    "pinv_state",
    "pinv_grid_state",
    "p_out",
    "q_out",
    "v_out",
    "f_out",
    "i_out",
    "energy_charged",
    "energy_discharged",
)
_POD_BLOCK_FLAGS = (
    "off_grid",
    "vf_mode",
    "wobble_detected",
    "charge_power_clamped",
    "backup_ready",
)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def flag(value: Any) -> int:
    """The proxy's int(value or 0); what int() cannot convert counts as 0."""
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _sources(view: CallView) -> tuple[dict[str, Any], list[Any], dict[str, Any]] | None:
    """(system status, its battery blocks, vitals), or None when both sources are missing."""
    status, vitals = view.get("system_status()"), view.get("vitals()")
    if status is None and vitals is None:
        return None
    status = _as_dict(status)
    blocks = status.get("battery_blocks")
    return status, blocks if isinstance(blocks, list) else [], _as_dict(vitals)


def _devices(vitals: dict[str, Any], prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [(name, _as_dict(data)) for name, data in vitals.items() if name.startswith(prefix)]


def _freq_block(pw: str, block: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {pw + "name": None, pw + "PINV_Fout": block.get("f_out")}
    entry |= {pw + "PINV_VSplit1": None, pw + "PINV_VSplit2": None}
    entry[pw + "PackagePartNumber"] = block.get("PackagePartNumber")
    entry[pw + "PackageSerialNumber"] = block.get("PackageSerialNumber")
    entry |= {pw + key: block.get(key) for key in _FREQ_BLOCK_FIELDS}
    return entry


def _freq_inverter(pw: str, name: str, device: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {pw + "name": name}
    entry |= {pw + key: device.get(key) for key in ("PINV_Fout", "PINV_VSplit1", "PINV_VSplit2")}
    return entry


def _island_and_meter(device: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in device.items() if key.startswith(("ISLAND", "METER"))}


def freq_route(view: CallView) -> RouteResult:
    sources = _sources(view)
    if sources is None:
        return Unavailable("no system status or vitals yet")
    _, blocks, vitals = sources
    result: dict[str, Any] = {}
    for n, block in enumerate(map(_as_dict, blocks), start=1):
        result |= _freq_block(f"PW{n}_", block)
    inverters = 0
    for name, data in vitals.items():
        device = _as_dict(data)
        if name.startswith("TEPINV"):
            inverters += 1
            result |= _freq_inverter(f"PW{inverters}_", name, device)
        if name.startswith(("TESYNC", "TEMSA")):
            result |= _island_and_meter(device)
    result["grid_status"] = view.get("grid_status('numeric')")
    return json_body(result)


def _pod_block(pw: str, block: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {pw + "name": None}
    entry |= {pw + key: None for key in _POD_FLAGS + _POD_VALUES}
    entry[pw + "POD_nom_energy_remaining"] = block.get("nominal_energy_remaining")
    entry[pw + "POD_nom_full_pack_energy"] = block.get("nominal_full_pack_energy")
    entry |= {pw + key: block.get(key) for key in _POD_BLOCK_FIELDS}
    entry |= {pw + key: flag(block.get(key)) for key in _POD_BLOCK_FLAGS}
    entry |= {pw + "OpSeqState": block.get("OpSeqState"), pw + "version": block.get("version")}
    return entry


def _pod_device(pw: str, name: str, device: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {pw + "name": name}
    entry |= {pw + key: flag(device.get(key)) for key in _POD_FLAGS}
    entry |= {pw + key: device.get(key) for key in _POD_VALUES}
    return entry


def pod_route(view: CallView) -> RouteResult:
    sources = _sources(view)
    if sources is None:
        return Unavailable("no system status or vitals yet")
    status, blocks, vitals = sources
    result: dict[str, Any] = {}
    for n, block in enumerate(map(_as_dict, blocks), start=1):
        result |= _pod_block(f"PW{n}_", block)
    for n, (name, device) in enumerate(_devices(vitals, "TEPOD"), start=1):
        result |= _pod_device(f"PW{n}_", name, device)
    result["nominal_full_pack_energy"] = status.get("nominal_full_pack_energy")
    result["nominal_energy_remaining"] = status.get("nominal_energy_remaining")
    result["time_remaining_hours"] = view.get("get_time_remaining()")
    result["backup_reserve_percent"] = view.get("get_reserve()")
    return json_body(result)
