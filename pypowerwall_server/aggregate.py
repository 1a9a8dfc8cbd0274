"""Site totals across gateways: pure functions, tested with tables.

Policy for stale gateways: a gateway whose newest data is older than the stale limit does
not count in any total (its last values would silently mix old and new power); it is listed
with `stale: true`, and the totals say `complete: false`. With no fresh gateway at all there
is no total (the API answers 503).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

METERS = ("site", "battery", "load", "solar")
AGGREGATES_CALL = "poll('/api/meters/aggregates')"
SYSTEM_STATUS_CALL = "system_status()"


@dataclass(frozen=True, slots=True)
class GatewayReading:
    gateway_id: str
    fresh: bool
    updated_at: float | None  # epoch seconds of the data (server clock)
    power_w: Mapping[str, float] | None  # site/battery/load/solar; None = no meter data
    full_pack_wh: float | None  # None = no battery reported
    remaining_wh: float | None


def reading_from_calls(
    gateway_id: str, fresh: bool, updated_at: float | None, calls: Mapping[str, Any]
) -> GatewayReading:
    return GatewayReading(
        gateway_id,
        fresh,
        updated_at,
        power_from_aggregates(calls.get(AGGREGATES_CALL)),
        *_energy(calls),
    )


def power_from_aggregates(aggregates: Any) -> dict[str, float] | None:
    """instant_power of each meter, or None unless all four are numbers."""
    if not isinstance(aggregates, Mapping):
        return None
    power: dict[str, float] = {}
    for meter in METERS:
        section = aggregates.get(meter)
        value = section.get("instant_power") if isinstance(section, Mapping) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        power[meter] = float(value)
    return power


def _energy(calls: Mapping[str, Any]) -> tuple[float | None, float | None]:
    status = calls.get(SYSTEM_STATUS_CALL)
    if not isinstance(status, Mapping):
        return None, None
    full, remaining = status.get("nominal_full_pack_energy"), status.get("nominal_energy_remaining")
    if not isinstance(full, int | float) or not isinstance(remaining, int | float) or full <= 0:
        return None, None
    return float(full), float(remaining)


def app_scale(raw_percent: float) -> float:
    """The Tesla app's scale: the gateway keeps 5 % in reserve (DESIGN.md)."""
    return min(100.0, max(0.0, (raw_percent - 5.0) / 0.95))


def aggregate_power(readings: Sequence[GatewayReading]) -> dict[str, Any] | None:
    counted = [r for r in readings if r.fresh and r.power_w is not None]
    if not counted:
        return None
    totals = {meter: sum(r.power_w[meter] for r in counted if r.power_w) for meter in METERS}
    return {
        **totals,
        "grid": totals["site"],
        "complete": len(counted) == len(readings),
        "gateways": [_power_entry(r, r in counted) for r in readings],
    }


def _power_entry(reading: GatewayReading, counted: bool) -> dict[str, Any]:
    return {
        "id": reading.gateway_id,
        "counted": counted,
        "stale": not reading.fresh,
        "updated_at": reading.updated_at,
        **(dict(reading.power_w) if reading.power_w else dict.fromkeys(METERS)),
    }


def aggregate_soe(readings: Sequence[GatewayReading]) -> dict[str, Any] | None:
    """Capacity-weighted: total energy remaining over total full-pack energy, so a big
    site weighs more than a small one (not a plain average of percentages)."""
    counted = [r for r in readings if r.fresh and r.full_pack_wh is not None]
    if not counted:
        return None
    capacity = sum(r.full_pack_wh or 0.0 for r in counted)
    remaining = sum(r.remaining_wh or 0.0 for r in counted)
    raw = 100.0 * remaining / capacity
    return {
        "percent_raw": raw,
        "percent_app": app_scale(raw),
        "total_capacity_wh": capacity,
        "energy_remaining_wh": remaining,
        "complete": len(counted) == len(readings),
        "gateways": [_soe_entry(r, r in counted) for r in readings],
    }


def _soe_entry(reading: GatewayReading, counted: bool) -> dict[str, Any]:
    raw = (
        100.0 * (reading.remaining_wh or 0.0) / reading.full_pack_wh
        if reading.full_pack_wh
        else None
    )
    return {
        "id": reading.gateway_id,
        "counted": counted,
        "stale": not reading.fresh,
        "has_battery": reading.full_pack_wh is not None,
        "capacity_wh": reading.full_pack_wh,
        "energy_remaining_wh": reading.remaining_wh,
        "percent_raw": raw,
        "percent_app": app_scale(raw) if raw is not None else None,
    }
