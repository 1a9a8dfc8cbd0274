"""The gateway's local customer API (/api/*): pure functions from a SiteState to the JSON
bodies pypowerwall parses, keys in the gateway's own order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.local_api_formats import (
    GO_ZERO_TIME,
    go_duration,
    go_start_time,
    go_timestamp,
    meter_fields,
)
from pypowerwall_server.simulator.local_api_static import GRID_CODE, STATIC_ROUTES
from pypowerwall_server.simulator.state import MeterState, PowerwallState, SiteState

Json = Any  # a JSON-serialisable value
Renderer = Callable[[SiteState, SiteConfig], Json]

METER_NAMES = ("site", "battery", "load", "solar")


def render(path: str, site: SiteState, config: SiteConfig) -> tuple[bool, Json]:
    """(found, body) for a GET of `path`; found is False for paths a gateway lacks."""
    renderer = ROUTES.get(path)
    if renderer is None:
        return False, None
    return True, renderer(site, config)


def meter_json(site: SiteState, name: str, reading: MeterState) -> dict[str, Json]:
    body: dict[str, Json] = {
        "last_communication_time": go_timestamp(site.sim_time, site.timezone),
        **meter_fields(reading),
        "i_a_current": 0,
        "i_b_current": 0,
        "i_c_current": 0,
        "last_phase_voltage_communication_time": GO_ZERO_TIME,
        "last_phase_power_communication_time": GO_ZERO_TIME,
        "timeout": 1000000000 if name == "solar" else 1500000000,
    }
    if name != "load":  # the load meter is computed, not aggregated from devices
        body["num_meters_aggregated"] = _visible_powerwall_count(site) if name == "battery" else 1
    body["instant_total_current"] = reading.instant_total_current_a
    return body


SOLAR_ONLY_DROPS = ("site", "battery")  # the meters a gateway in "solar only" state loses


def aggregates(site: SiteState, _config: SiteConfig) -> Json:
    readings = (site.site, site.battery, site.load, site.solar)
    meters = zip(METER_NAMES, readings, strict=True)
    return {
        name: meter_json(site, name, r)
        for name, r in meters
        if not (site.solar_only and name in SOLAR_ONLY_DROPS)
    }


def soe(site: SiteState, _config: SiteConfig) -> Json:
    return {"percentage": site.soe_raw_percent}


def status(site: SiteState, _config: SiteConfig) -> Json:
    return {
        "din": site.gateway_din,
        "start_time": go_start_time(site.start_time, site.timezone),
        "up_time_seconds": go_duration(site.uptime_seconds),
        "is_new": False,
        "version": site.firmware_version,
        "git_hash": site.git_hash,
        "commission_count": 0,
        "device_type": "teg",
        "teg_type": "unknown",
        "sync_type": "v2.1",
        "cellular_disabled": False,
        "can_reboot": True,
    }


def site_name(site: SiteState, _config: SiteConfig) -> Json:
    return {"site_name": site.site_name, "timezone": site.timezone}


def site_info(site: SiteState, config: SiteConfig) -> Json:
    energy_kwh = round(site.nominal_full_pack_energy_wh / 1000.0, 1)
    power_kw = round(config.unit_max_power_w * config.powerwalls / 1000.0, 1)
    return {
        "max_system_energy_kWh": energy_kwh,
        "max_system_power_kW": power_kw,
        "site_name": site.site_name,
        "timezone": site.timezone,
        "max_site_meter_power_kW": 1000000000,
        "min_site_meter_power_kW": -1000000000,
        "nominal_system_energy_kWh": energy_kwh,
        "nominal_system_power_kW": power_kw,
        "panel_max_current": 100,
        "grid_code": dict(GRID_CODE),
    }


def sitemaster(site: SiteState, _config: SiteConfig) -> Json:
    return {
        "status": "StatusUp",
        "running": True,
        "connected_to_tesla": True,
        "power_supply_mode": False,
        "can_reboot": "Yes",
    }


def grid_status(site: SiteState, _config: SiteConfig) -> Json:
    return {"grid_status": site.grid_status, "grid_services_active": False}


def operation(site: SiteState, _config: SiteConfig) -> Json:
    return {
        "real_mode": site.operating_mode,
        "backup_reserve_percent": site.backup_reserve_raw_percent,
        "freq_shift_load_shed_soe": 0,
        "freq_shift_load_shed_delta_f": 0,
    }


def visible_powerwalls(site: SiteState) -> tuple[PowerwallState, ...]:
    return tuple(p for p in site.powerwalls if p.serial not in site.missing_powerwall_serials)


def _visible_powerwall_count(site: SiteState) -> int:
    return sum(1 for p in visible_powerwalls(site) if p.kind != "expansion")


def battery_block(site: SiteState, unit: PowerwallState) -> dict[str, Json]:
    return {
        "Type": "",
        "PackagePartNumber": unit.part_number,
        "PackageSerialNumber": unit.serial,
        "disabled_reasons": [],
        "pinv_state": unit.pinv_state,
        "pinv_grid_state": "Grid_Compliant" if site.grid_up else "Grid_Uncompliant",
        "nominal_energy_remaining": round(unit.nominal_energy_remaining_wh),
        "nominal_full_pack_energy": round(unit.nominal_full_pack_energy_wh),
        "p_out": unit.p_out_w,
        "q_out": unit.q_out_var,
        "v_out": unit.v_out_v,
        "f_out": unit.f_out_hz,
        "i_out": unit.i_out_a,
        "energy_charged": round(unit.energy_charged_wh),
        "energy_discharged": round(unit.energy_discharged_wh),
        "off_grid": not site.grid_up,
        "vf_mode": not site.grid_up,
        "wobble_detected": False,
        "charge_power_clamped": False,
        "backup_ready": True,
        "OpSeqState": "Active",
        "version": unit.firmware_version,
    }


ENERGY_FIELDS = ("nominal_full_pack_energy", "nominal_energy_remaining")


def system_status(site: SiteState, config: SiteConfig) -> Json:
    status = _system_status(site, config)
    if not config.system_status_capacity:
        for part in (status, *status["battery_blocks"]):
            for name in ENERGY_FIELDS:
                del part[name]
    return status


def _system_status(site: SiteState, config: SiteConfig) -> dict[str, Any]:
    blocks = [battery_block(site, unit) for unit in visible_powerwalls(site)]
    max_power = round(config.unit_max_power_w * config.powerwalls)
    return {
        "command_source": "Configuration",
        "battery_target_power": site.battery.instant_power_w,
        "battery_target_reactive_power": 0,
        "nominal_full_pack_energy": round(site.nominal_full_pack_energy_wh),
        "nominal_energy_remaining": round(site.nominal_energy_remaining_wh),
        "max_power_energy_remaining": 0,
        "max_power_energy_to_be_charged": 0,
        "max_charge_power": max_power,
        "max_discharge_power": max_power,
        "max_apparent_power": max_power,
        "instantaneous_max_discharge_power": max_power,
        "instantaneous_max_charge_power": max_power,
        "instantaneous_max_apparent_power": max_power,
        "hardware_capability_charge_power": max_power,
        "hardware_capability_discharge_power": max_power,
        "grid_services_power": 0,
        "system_island_state": site.grid_status,
        "available_blocks": len(blocks),
        "available_charger_blocks": 0,
        "battery_blocks": blocks,
        "ffr_power_availability_high": max_power,
        "ffr_power_availability_low": max_power,
        "load_charge_constraint": 0,
        "max_sustained_ramp_rate": 2500000,
        "grid_faults": [],
        "can_reboot": "Yes",
        "smart_inv_delta_p": 0,
        "smart_inv_delta_q": 0,
        "last_toggle_timestamp": go_timestamp(site.start_time, site.timezone),
        "solar_real_power_limit": -1,
        "score": 10000,
        "blocks_controlled": len(blocks),
        "primary": True,
        "auxiliary_load": 0,
        "all_enable_lines_high": True,
        "inverter_nominal_usable_power": max_power,
        "expected_energy_remaining": 0,
    }


def powerwalls(site: SiteState, _config: SiteConfig) -> Json:
    return {
        "enumerating": False,
        "updating": False,
        "checking_if_offgrid": False,
        "running_phase_detection": False,
        "phase_detection_last_error": "no phase information",
        "bubble_shedding": False,
        "on_grid_check_error": "on grid check not run",
        "grid_qualifying": False,
        "grid_code_validating": False,
        "phase_detection_not_available": True,
        "powerwalls": [_powerwall_entry(site, unit) for unit in visible_powerwalls(site)],
        "gateway_din": site.gateway_din,
        "sync": {"updating": False, "commissioning_diagnostic": None, "update_diagnostic": None},
        "msa": None,
        "states": None,
    }


def _powerwall_entry(site: SiteState, unit: PowerwallState) -> dict[str, Json]:
    return {
        "Type": "",
        "PackagePartNumber": unit.part_number,
        "PackageSerialNumber": unit.serial,
        "type": "ACPW" if unit.kind != "expansion" else "BatteryExpansion",
        "grid_state": "Grid_Compliant" if site.grid_up else "Grid_Uncompliant",
        "grid_reconnection_time_seconds": 0,
        "under_phase_detection": False,
        "updating": False,
        "commissioning_diagnostic": None,
        "update_diagnostic": None,
        "bc_type": None,
        "in_config": True,
    }


ROUTES: dict[str, Renderer] = {
    "/api/meters/aggregates": aggregates,
    "/api/system_status/soe": soe,
    "/api/status": status,
    "/api/site_info/site_name": site_name,
    "/api/site_info": site_info,
    "/api/sitemaster": sitemaster,
    "/api/system_status/grid_status": grid_status,
    "/api/system_status/grid_faults": lambda _site, _config: [],
    "/api/system_status": system_status,
    "/api/operation": operation,
    "/api/powerwalls": powerwalls,
    **STATIC_ROUTES,
}
