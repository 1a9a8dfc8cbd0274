"""A gateway's battery capacity from the first source that has it.

Some gateways' /api/system_status gives no nominal_full_pack_energy while their state of
energy and battery power are there; a site total that then leaves the battery out is wrong.
Sources, in order (the answer names the one used, CapacitySource):

1. "system_status": its nominal_full_pack_energy (Wh);
2. "battery_blocks": the sum of the battery blocks' nominal_full_pack_energy (every block
   must give one);
3. "site_info": /api/site_info's nominal_system_energy_kWh;
4. "powerwall_model": the battery blocks counted by model (PackagePartNumber), each at its
   model's rated usable energy from Tesla's datasheets: Powerwall 2 13.5 kWh, Powerwall 3
   13.5 kWh, Powerwall 3 Expansion 13.5 kWh (POWERWALL_MODEL_WH). A block of an unknown
   part number makes this source unknown.

Energy remaining comes with its capacity where the same source has it (system_status, the
blocks); otherwise it is the capacity times the gateway's own state of energy (raw 0-100).
A value that is not a positive number counts as missing (a 0 capacity is "unknown", not an
empty battery).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pypowerwall_server.gateway.numbers import number, positive

CapacitySource = Literal["system_status", "battery_blocks", "site_info", "powerwall_model"]
RATED_USABLE_WH = 13_500.0
# Part-number prefixes (PackagePartNumber) -> rated usable energy in Wh.
POWERWALL_MODEL_WH: Mapping[str, float] = {
    "1092170": RATED_USABLE_WH,  # Powerwall 2 (AC)
    "2012170": RATED_USABLE_WH,  # Powerwall 2
    "3012170": RATED_USABLE_WH,  # Powerwall 2
    "1707000": RATED_USABLE_WH,  # Powerwall 3
    "1807000": RATED_USABLE_WH,  # Powerwall 3 Expansion
}


@dataclass(frozen=True, slots=True)
class BatteryEnergy:
    capacity_wh: float | None
    energy_remaining_wh: float | None
    source: CapacitySource | None  # None: no source knew the capacity


UNKNOWN = BatteryEnergy(None, None, None)


def battery_energy(status: Any, site_info: Any, level_raw: float | None) -> BatteryEnergy:
    """Capacity and energy remaining from system_status(), /api/site_info and level()."""
    status = status if isinstance(status, Mapping) else {}
    blocks = status.get("battery_blocks")
    blocks = [b for b in blocks if isinstance(b, Mapping)] if isinstance(blocks, list) else []
    full = positive(status.get("nominal_full_pack_energy"))
    if full is not None:
        remaining = status.get("nominal_energy_remaining")
        return _with_remaining(full, remaining, level_raw, "system_status")
    block_full = _sum([b.get("nominal_full_pack_energy") for b in blocks])
    if block_full is not None:
        remaining = _sum([b.get("nominal_energy_remaining") for b in blocks], allow_zero=True)
        return _with_remaining(block_full, remaining, level_raw, "battery_blocks")
    site = site_info if isinstance(site_info, Mapping) else {}
    site_kwh = positive(site.get("nominal_system_energy_kWh"))
    if site_kwh is not None:
        return _with_remaining(site_kwh * 1000.0, None, level_raw, "site_info")
    model_full = _sum([_model_wh(b.get("PackagePartNumber")) for b in blocks])
    if model_full is not None:
        return _with_remaining(model_full, None, level_raw, "powerwall_model")
    return UNKNOWN


def _with_remaining(
    capacity: float, remaining: Any, level_raw: float | None, source: CapacitySource
) -> BatteryEnergy:
    value = number(remaining)
    if value is None or value < 0:
        value = capacity * level_raw / 100.0 if level_raw is not None else None
    return BatteryEnergy(float(capacity), None if value is None else float(value), source)


def _model_wh(part_number: Any) -> float | None:
    if not isinstance(part_number, str):
        return None
    return POWERWALL_MODEL_WH.get(part_number.split("-")[0])


def _sum(values: list[Any], allow_zero: bool = False) -> float | None:
    """The sum, or None when there is nothing to add or any value is missing."""
    numbers = [number(v) for v in values]
    if not numbers or any(n is None or n < 0 or (n == 0 and not allow_zero) for n in numbers):
        return None
    return float(sum(n for n in numbers if n is not None))
