"""The unit of every per-battery-unit value, per source (docs/architecture.md, units).

pypowerwall's `system_status()['battery_blocks']` has the same field names on every
transport but not the same units: the local API's `p_out` is W, while over TEDAPI (and
v1r, its LAN form) the library copies it from the inverter's `PINV_Pout`, which is kW.
Cloud and Fleet API answers have no battery blocks in pypowerwall 0.22; their rows say
what the fields would carry so a future library cannot slip a unit past the table test.
Everything we publish is W, Wh, V, Hz, A: `to_base_unit` converts once, in readings.py.
Legacy routes (/freq, /pod) keep the library's value as the proxy did (docs/units.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pypowerwall_server.models import BatteryUnit, GatewayAttributes

StatusSource = Literal["local_api", "tedapi", "cloud", "fleetapi"]
Unit = Literal["W", "kW", "Wh", "V", "Hz", "A", "VAr", "kVAr"]
STATUS_SOURCES: tuple[StatusSource, ...] = ("local_api", "tedapi", "cloud", "fleetapi")
_TO_BASE: Mapping[Unit, float] = {
    "W": 1.0,
    "kW": 1000.0,
    "Wh": 1.0,
    "V": 1.0,
    "Hz": 1.0,
    "A": 1.0,
    "VAr": 1.0,
    "kVAr": 1000.0,
}
BASE_UNIT: Mapping[Unit, Unit] = {"kW": "W", "kVAr": "VAr"}

_LOCAL_API_BLOCK: Mapping[str, Unit] = {
    "p_out": "W",
    "q_out": "VAr",
    "v_out": "V",
    "f_out": "Hz",
    "i_out": "A",
    "nominal_energy_remaining": "Wh",
    "nominal_full_pack_energy": "Wh",
    "energy_charged": "Wh",
    "energy_discharged": "Wh",
}
# system_status()['battery_blocks'][i][field] -> its unit, per source.
BLOCK_UNITS: Mapping[StatusSource, Mapping[str, Unit]] = {
    "local_api": _LOCAL_API_BLOCK,
    # PINV_Pout (kW) for p_out; PINV_Vout, PINV_Fout; POD_nom_* (Wh) for the energies.
    "tedapi": {**_LOCAL_API_BLOCK, "p_out": "kW", "q_out": "kVAr"},
    "cloud": _LOCAL_API_BLOCK,
    "fleetapi": _LOCAL_API_BLOCK,
}


def status_source(attributes: GatewayAttributes) -> StatusSource:
    """Where this connection's `system_status()` comes from: TEDAPI in full and v1r modes,
    the local API otherwise (hybrid mode reads system status over the local API)."""
    if attributes.fleetapi:
        return "fleetapi"
    if attributes.cloudmode:
        return "cloud"
    if attributes.tedapi_mode in ("full", "v1r"):
        return "tedapi"
    return "local_api"


def to_base_unit(source: StatusSource, field: str, value: float | None) -> float | None:
    """A battery block's value in W, Wh, V, Hz or A; a kW value keeps 3 decimals' worth."""
    if value is None:
        return None
    scale = _TO_BASE[BLOCK_UNITS[source][field]]
    return value if scale == 1.0 else round(value * scale, 6)


# Per-unit readings and the battery meter are not read at the same instant.
PLAUSIBLE_ABS_W = 250.0
PLAUSIBLE_SHARE = 0.25


def units_disagree_with_meter(
    batteries: tuple[BatteryUnit, ...], battery_meter_w: float | None
) -> str | None:
    """Why the units' power does not add up to the battery meter, or None when it does or
    cannot be told (no meter, no unit with a power). A unit without power is an expansion
    pack, whose power goes through its Powerwall 3's inverter and is counted there."""
    powers = [unit.power_w for unit in batteries if unit.power_w is not None]
    if battery_meter_w is None or not powers:
        return None
    total = sum(powers)
    allowed = max(PLAUSIBLE_ABS_W, PLAUSIBLE_SHARE * abs(battery_meter_w))
    if abs(total - battery_meter_w) <= allowed:
        return None
    return f"battery units sum to {total:.0f} W but the battery meter reads {battery_meter_w:.0f} W"
