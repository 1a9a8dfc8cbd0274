"""The JSON documents of the simulated Tesla Fleet API's energy-site routes, from a site's
state (pure functions), in the shapes pypowerwall's FleetAPI client reads (see its
docstrings in pypowerwall/fleetapi/fleetapi.py).

Scales: the cloud shows the reserve and the charge on the Tesla app's scale (0-100 % of
usable energy), the gateway on its raw scale; app = (raw - 5) / 0.95, as pypowerwall
converts. Signs as on the gateway: grid + = importing, battery + = discharging.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.state import SiteState
from pypowerwall_server.simulator.tedapi_common import NOMINAL_POWER_W

JsonDict = dict[str, Any]
INSTALLED_DAYS_BEFORE_BOOT = 400.0
BATTERY_PART_TYPE = 2
GATEWAY_PART_TYPE = 10


def app_percent(raw_percent: float) -> float:
    """Gateway scale → Tesla app scale (what the cloud reports)."""
    return max(0.0, (raw_percent - 5.0) / 0.95)


def raw_percent(app: float) -> float:
    """Tesla app scale → gateway scale (what a cloud write stores on the gateway)."""
    return app * 0.95 + 5.0


def product(config: SiteConfig, site: SiteState) -> JsonDict:
    """One energy site in /api/1/products."""
    return {
        "energy_site_id": config.energy_site_id,
        "resource_type": "battery",
        "site_name": site.site_name,
        "id": f"STE{config.energy_site_id}",
        "gateway_id": site.gateway_din,
        "energy_left": round(site.nominal_energy_remaining_wh, 1),
        "total_pack_energy": round(site.nominal_full_pack_energy_wh, 1),
        "percentage_charged": app_percent(site.soe_raw_percent),
        "battery_power": site.battery.instant_power_w,
    }


def live_status(site: SiteState, storm_active: bool) -> JsonDict:
    return {
        "solar_power": site.solar.instant_power_w,
        "percentage_charged": app_percent(site.soe_raw_percent),
        "backup_capable": True,
        "battery_power": site.battery.instant_power_w,
        "load_power": site.load.instant_power_w,
        "grid_status": "Active" if site.grid_up else "Inactive",
        "grid_services_active": False,
        "grid_power": site.site.instant_power_w,
        "grid_services_power": 0,
        "generator_power": 0,
        "island_status": "on_grid" if site.grid_up else "off_grid_intentional",
        "storm_mode_active": storm_active,
        "timestamp": _local_iso(site.sim_time, site.timezone),
        "wall_connectors": [],
    }


def site_info(config: SiteConfig, site: SiteState) -> JsonDict:
    components: JsonDict = {
        "solar": True,
        "solar_type": "pv_panel",
        "battery": True,
        "grid": True,
        "backup": True,
        "gateway": "teg",
        "load_meter": True,
        "tou_capable": True,
        "storm_mode_capable": True,
        "battery_type": "ac_powerwall",
        "configurable": True,
        "grid_services_enabled": False,
        "customer_preferred_export_rule": site.export_rule,
        "gateways": [_gateway(config, site)],
        "batteries": [_battery(site, index) for index in range(len(site.powerwalls))],
        "edit_setting_permission_to_export": True,
        "edit_setting_grid_charging": True,
        "edit_setting_energy_exports": True,
    }
    if site.export_rule == "never":
        components["non_export_configured"] = True
    if not site.grid_charging:
        components["disallow_charge_from_grid_with_solar_installed"] = True
    nameplate_w = sum(NOMINAL_POWER_W[pw.kind] for pw in site.powerwalls)
    return {
        "id": site.gateway_din,
        "site_name": site.site_name,
        "backup_reserve_percent": round(app_percent(site.backup_reserve_raw_percent), 3),
        "default_real_mode": site.operating_mode,
        "installation_date": _installed(site),
        "user_settings": {"storm_mode_enabled": True, "breaker_alert_enabled": False},
        "components": components,
        "version": site.firmware_version,
        "battery_count": sum(1 for pw in site.powerwalls if pw.kind != "expansion"),
        "nameplate_power": nameplate_w,
        "nameplate_energy": round(site.nominal_full_pack_energy_wh),
        "installation_time_zone": site.timezone,
        "tariff_content": {},
    }


def site_status(config: SiteConfig, site: SiteState) -> JsonDict:
    return {
        "resource_type": "battery",
        "site_name": site.site_name,
        "gateway_id": site.gateway_din,
        "energy_left": round(site.nominal_energy_remaining_wh, 1),
        "total_pack_energy": round(site.nominal_full_pack_energy_wh, 1),
        "percentage_charged": app_percent(site.soe_raw_percent),
        "battery_type": "ac_powerwall",
        "backup_capable": True,
        "battery_power": site.battery.instant_power_w,
        "storm_mode_enabled": True,
        "sync_grid_alert_enabled": True,
        "breaker_alert_enabled": False,
    }


def backup_time_remaining(site: SiteState) -> JsonDict:
    """Hours the stored energy carries the house at its present load; None (unknown)
    while the house draws nothing."""
    load_w = site.load.instant_power_w
    hours = site.nominal_energy_remaining_wh / load_w if load_w > 0 else None
    return {"time_remaining_hours": hours}


def _gateway(config: SiteConfig, site: SiteState) -> JsonDict:
    return {
        "din": site.gateway_din,
        "serial_number": site.gateway_serial,
        "part_number": site.gateway_part_number,
        "part_type": GATEWAY_PART_TYPE,
        "part_name": "Tesla Backup Gateway 2",
        "is_active": True,
        "site_id": f"STE{config.energy_site_id}",
        "firmware_version": site.firmware_version,
    }


def _battery(site: SiteState, index: int) -> JsonDict:
    pw = site.powerwalls[index]
    return {
        "din": pw.din,
        "serial_number": pw.serial,
        "part_number": pw.part_number,
        "part_type": BATTERY_PART_TYPE,
        "part_name": "Powerwall 3" if pw.kind == "powerwall3" else "Powerwall 2",
        "nameplate_max_charge_power": NOMINAL_POWER_W[pw.kind],
        "nameplate_max_discharge_power": NOMINAL_POWER_W[pw.kind],
        "nameplate_energy": round(pw.nominal_full_pack_energy_wh),
    }


def _installed(site: SiteState) -> str:
    installed = site.start_time - INSTALLED_DAYS_BEFORE_BOOT * 86400.0
    return datetime.fromtimestamp(installed, UTC).isoformat(timespec="seconds")


def _local_iso(t: float, timezone: str) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(timezone)).isoformat(timespec="seconds")
