"""config.json as the gateway serves it over TEDAPI: the commissioned hardware (every
battery block, even one that has gone missing) and the site settings pypowerwall reads for
get_reserve(), get_mode(), get_grid_charging(), get_grid_export() and /api/site_info."""

from __future__ import annotations

from datetime import UTC, datetime

from pypowerwall_server.simulator.state import PowerwallState, SiteState
from pypowerwall_server.simulator.tedapi_common import (
    BLOCK_TYPE,
    NOMINAL_POWER_W,
    JsonDict,
    sync_serial,
)
from pypowerwall_server.simulator.tedapi_components import unit_expansions

COMMISSIONED_DAYS_BEFORE_BOOT = 400.0


def config_json(site: SiteState) -> JsonDict:
    return {
        "vin": site.gateway_din,
        "auto_meter_update": True,
        "battery_blocks": _battery_blocks(site),
        "bridge_inverter": {},
        "client_protocols": {},
        "credentials": [],
        "customer": {"registered": True},
        "default_real_mode": site.operating_mode,
        "dio": {},
        "enable_inverter_meter_readings": True,
        "freq_shift_load_shed": {},
        "freq_support_parameters": {},
        "industrial_networks": {},
        "installer": {"company": "Simulated Solar Co", "phone": ""},
        "island_config": {},
        "island_contactor_controller": {},
        "logging": {},
        "meters": _meters(site),
        "site_info": _site_info(site),
        "solar": {"brand": "Tesla"},
        "solars": [_solar() for _ in site.solar_inverters],
        "strategy": {},
        "test_timers": {},
    }


def _battery_blocks(site: SiteState) -> list[JsonDict]:
    return [_block(site, pw) for pw in site.powerwalls if pw.kind != "expansion"]


def _block(site: SiteState, pw: PowerwallState) -> JsonDict:
    block: JsonDict = {
        "vin": pw.din,
        "type": BLOCK_TYPE[pw.kind],
        "min_soe": 0,
        "max_soe": 100,
        "disabled_reasons": [],
        "backup_ready": True,
    }
    if pw.kind == "powerwall3":
        block["battery_expansions"] = [
            {"din": exp.din, "type": BLOCK_TYPE[exp.kind]} for exp in unit_expansions(site, pw)
        ]
    return block


def _meters(site: SiteState) -> list[JsonDict]:
    connection = {"short_id": "1", "device_serial": sync_serial(site), "https_conf": {}}
    return [
        {
            "location": location,
            "type": f"synchrometer{meter}",
            "cts": [True, True, False, False],
            "inverted": [False, False, False, False],
            "connection": connection,
            "real_power_scale_factor": 1,
        }
        for location, meter in (("site", "X"), ("solar", "Y"))
    ]


def _site_info(site: SiteState) -> JsonDict:
    inverter_power_w = sum(NOMINAL_POWER_W[pw.kind] for pw in site.powerwalls)
    return {
        "site_name": site.site_name,
        "timezone": site.timezone,
        "backup_reserve_percent": site.backup_reserve_raw_percent,
        "battery_commission_date": _commission_date(site),
        "nominal_system_energy_ac": round(site.nominal_full_pack_energy_wh / 1000.0, 1),
        "nominal_system_power_ac": round(inverter_power_w / 1000.0, 1),
        "max_site_meter_power_ac": 1000000000,
        "min_site_meter_power_ac": -1000000000,
        "grid_code": "60Hz_240V_s_UL1741SA:2019_California",
        "country": "United States",
        "state": "California",
        "utility": "Pacific Gas & Electric Company",
        "panel_max_current": 200,
        "customer_preferred_export_rule": site.export_rule,
        "disallow_charge_from_grid_with_solar_installed": not site.grid_charging,
        "on_grid_solar_curtailment_enabled": False,
        "ITC_cliff": 0,
        "tariff_content": {},
    }


def _commission_date(site: SiteState) -> str:
    commissioned = site.start_time - COMMISSIONED_DAYS_BEFORE_BOOT * 86400.0
    return datetime.fromtimestamp(commissioned, UTC).isoformat(timespec="seconds")


def _solar() -> JsonDict:
    return {"brand": "Tesla", "model": "Tesla Solar Inverter 7.6", "power_rating_watts": 7600}
