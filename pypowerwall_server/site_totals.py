"""Site totals across gateways: pure functions, tested with tables.

Policy for stale gateways: a gateway whose newest data is older than the stale limit does
not count in any total (its last values would silently mix old and new power); it is listed
with `stale: true`, and the totals say `complete: false`. With no fresh gateway at all there
is no total (the API answers 503).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pypowerwall_server.models import MeterPower, Snapshot, app_scale

METERS = ("site", "battery", "load", "solar")


@dataclass(frozen=True, slots=True)
class GatewayReading:
    """What one gateway adds to the totals."""

    gateway_id: str
    fresh: bool
    updated_at: float | None  # epoch seconds of the data (server clock)
    power_w: MeterPower | None  # None = no meter data
    full_pack_wh: float | None  # None = no battery reported
    remaining_wh: float | None


def reading_of(gateway_id: str, fresh: bool, snapshot: Snapshot | None) -> GatewayReading:
    if snapshot is None:
        return GatewayReading(gateway_id, False, None, None, None, None)
    readings = snapshot.readings
    return GatewayReading(
        gateway_id,
        fresh,
        snapshot.taken_at,
        readings.power_w,
        readings.capacity_wh,
        readings.energy_remaining_wh,
    )


def aggregate_power(readings: Sequence[GatewayReading]) -> dict[str, Any] | None:
    counted = [r for r in readings if r.fresh and r.power_w is not None]
    if not counted:
        return None
    powers = [r.power_w.as_dict() for r in counted if r.power_w is not None]
    totals = {meter: sum(p[meter] for p in powers) for meter in METERS}
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
        **(reading.power_w.as_dict() if reading.power_w else dict.fromkeys(METERS)),
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
