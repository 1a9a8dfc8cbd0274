"""Library results → our typed Readings, once per Snapshot (docs/architecture.md, data flow).

This module and legacy/ are the only readers of pypowerwall call names: everything else
reads `Snapshot.readings`. A value of the wrong type counts as unknown (None), never as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pypowerwall_server.gateway.capacity import battery_energy
from pypowerwall_server.gateway.numbers import number, positive, reserve_percent
from pypowerwall_server.gateway.units import StatusSource, to_base_unit
from pypowerwall_server.legacy.aggregates import instant_power
from pypowerwall_server.legacy.derivations import make_view
from pypowerwall_server.models import (
    VERBATIM_NAMES,
    BatteryUnit,
    MeterEnergy,
    MeterPower,
    Readings,
    SolarString,
    VerbatimName,
    app_scale,
)

AGGREGATES_CALL = "poll('/api/meters/aggregates')"
LEVEL_CALL = "level()"
SYSTEM_STATUS_CALL = "system_status()"
GRID_STATUS_CALL = "grid_status('string')"
RESERVE_CALL = "get_reserve()"
MODE_CALL = "get_mode()"
GRID_CHARGING_CALL = "get_grid_charging()"  # None on TEDAPI Wi-Fi / local: not a write path
GRID_EXPORT_CALL = "get_grid_export()"
TIME_REMAINING_CALL = "get_time_remaining()"
VERSION_CALL = "version()"
SITE_NAME_CALL = "site_name()"
SITE_INFO_CALL = "poll('/api/site_info')"  # nominal_system_energy_kWh (gateway/capacity.py)
STRINGS_CALL = "strings()"
ALERTS_CALL = "alerts()"
TEMPS_CALL = "temps()"  # derived from vitals() (legacy/derived_vitals.py), never polled
# The calls whose values GET /api/gateways/{id}/{name} serves verbatim.
VERBATIM_CALLS: Mapping[VerbatimName, str] = {
    "vitals": "vitals()",
    "aggregates": AGGREGATES_CALL,
    "strings": STRINGS_CALL,
    "alerts": ALERTS_CALL,
    "status": "status()",
}
# The library calls our own API needs, by tier (gateway/schedule.py adds the legacy ones).
FAST_CALLS = (
    AGGREGATES_CALL,
    LEVEL_CALL,
    SYSTEM_STATUS_CALL,
    GRID_STATUS_CALL,
    "vitals()",
    STRINGS_CALL,
)  # not alerts(): the library returns them in set order; legacy/ derives them sorted
SLOW_CALLS = (
    "status()",
    RESERVE_CALL,
    MODE_CALL,
    TIME_REMAINING_CALL,
    VERSION_CALL,
    SITE_NAME_CALL,
    SITE_INFO_CALL,
)
# What control reads back after a write: the slow tier must include these for every
# gateway that can write (control/current.py).
CONTROL_CALLS = (RESERVE_CALL, MODE_CALL, GRID_CHARGING_CALL, GRID_EXPORT_CALL)
METERS = ("site", "battery", "load", "solar")


def readings_from_calls(polled: Mapping[str, Any], source: StatusSource) -> Readings:
    """`source` says where system_status() came from, which decides its units (units.py)."""
    calls = make_view(polled)  # polled calls, plus what legacy/ derives (temps, sorted alerts)
    level = number(calls.get(LEVEL_CALL))
    energy = battery_energy(calls.get(SYSTEM_STATUS_CALL), calls.get(SITE_INFO_CALL), level)
    return Readings(
        power_w=power_from_aggregates(calls.get(AGGREGATES_CALL)),
        energy_wh=_energy_counters(calls.get(AGGREGATES_CALL)),
        soe_percent_raw=level,
        soe_percent_app=app_scale(level) if level is not None else None,
        capacity_wh=energy.capacity_wh,
        energy_remaining_wh=energy.energy_remaining_wh,
        capacity_source=energy.source,
        max_discharge_power_w=_status_power(calls.get(SYSTEM_STATUS_CALL), "max_discharge_power"),
        max_charge_power_w=_status_power(calls.get(SYSTEM_STATUS_CALL), "max_charge_power"),
        grid_status=_text(calls.get(GRID_STATUS_CALL)),
        backup_reserve_percent_app=reserve_percent(calls.get(RESERVE_CALL)),
        operating_mode=_text(calls.get(MODE_CALL)),
        grid_charging=_flag(calls.get(GRID_CHARGING_CALL)),
        grid_export=_text(calls.get(GRID_EXPORT_CALL)),
        time_remaining_hours=number(calls.get(TIME_REMAINING_CALL)),
        firmware_version=_text(calls.get(VERSION_CALL)) or None,  # TEDAPI may say ""
        site_name=_text(calls.get(SITE_NAME_CALL)),
        batteries=_batteries(calls.get(SYSTEM_STATUS_CALL), source),
        strings=_strings(calls.get(STRINGS_CALL)),
        temperatures_c=_temperatures(calls.get(TEMPS_CALL)),
        alerts=_alerts(calls.get(ALERTS_CALL)),
        verbatim={name: calls.get(VERBATIM_CALLS[name]) for name in VERBATIM_NAMES},
    )


def power_from_aggregates(aggregates: Any) -> MeterPower | None:
    """instant_power of each meter, or None unless all four are numbers."""
    if not isinstance(aggregates, Mapping):
        return None
    power: list[float] = []
    for meter in METERS:
        value = instant_power(aggregates, meter)
        if value is None:
            return None
        power.append(float(value))
    return MeterPower(*power)


def _energy_counters(aggregates: Any) -> dict[str, MeterEnergy]:
    if not isinstance(aggregates, Mapping):
        return {}
    counters: dict[str, MeterEnergy] = {}
    for meter in METERS:
        section = aggregates.get(meter)
        if isinstance(section, Mapping):
            imported = positive(section.get("energy_imported"))
            exported = positive(section.get("energy_exported"))
            counters[meter] = MeterEnergy(imported, exported)
    return counters


def _status_power(status: Any, key: str) -> float | None:
    """A power limit from system_status(); None when absent or not positive."""
    return positive(status.get(key)) if isinstance(status, Mapping) else None


def _batteries(status: Any, source: StatusSource) -> tuple[BatteryUnit, ...]:
    blocks = status.get("battery_blocks") if isinstance(status, Mapping) else None
    if not isinstance(blocks, list):
        return ()
    return tuple(
        BatteryUnit(
            serial=_text(block.get("PackageSerialNumber")),
            capacity_wh=to_base_unit(
                source, "nominal_full_pack_energy", number(block.get("nominal_full_pack_energy"))
            ),
            energy_remaining_wh=to_base_unit(
                source, "nominal_energy_remaining", number(block.get("nominal_energy_remaining"))
            ),
            power_w=to_base_unit(source, "p_out", number(block.get("p_out"))),
        )
        for block in blocks
        if isinstance(block, Mapping)
    )


def _strings(strings: Any) -> tuple[SolarString, ...]:
    if not isinstance(strings, Mapping):
        return ()
    return tuple(
        SolarString(
            name=str(name),
            voltage_v=number(data.get("Voltage")),
            current_a=number(data.get("Current")),
            power_w=number(data.get("Power")),
            connected=data.get("Connected") if isinstance(data.get("Connected"), bool) else None,
        )
        for name, data in strings.items()
        if isinstance(data, Mapping)
    )


def _temperatures(temps: Any) -> dict[str, float | None]:
    if not isinstance(temps, Mapping):
        return {}
    return {str(device): number(value) for device, value in temps.items()}


def _alerts(alerts: Any) -> tuple[str, ...] | None:
    if not isinstance(alerts, list):
        return None
    return tuple(name for name in alerts if isinstance(name, str))


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
