"""Local API bodies about devices and configuration that change rarely: meters, solar
inverter status, networks, installer, grid codes, firmware update status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.local_api_formats import go_timestamp, meter_fields
from pypowerwall_server.simulator.model import BASE_ALERTS
from pypowerwall_server.simulator.state import MeterState, SiteState

Json = Any
SYNC_SERIAL_SUFFIX = "synchrometerX"


GRID_CODE = {  # the simulated site's grid code, in site_info and grid_codes alike
    "grid_code": "60Hz_240V_s_UL1741SA:2019_California",
    "grid_voltage_setting": 240,
    "grid_freq_setting": 60,
    "grid_phase_setting": "Split",
    "country": "United States",
    "state": "California",
    "utility": "Southern California Edison",
}


def _sync_serial(site: SiteState) -> str:
    return f"JBL{site.gateway_serial[-9:]}"


def cached_readings(site: SiteState, reading: MeterState, serial: str) -> dict[str, Json]:
    now = go_timestamp(site.sim_time, site.timezone)
    half_power = reading.instant_power_w / 2.0
    half_current = reading.instant_average_current_a / 2.0
    half_voltage = reading.instant_average_voltage_v / 2.0
    return {
        "last_communication_time": now,
        **meter_fields(reading),
        "i_a_current": half_current,
        "i_b_current": half_current,
        "i_c_current": 0,
        "last_phase_voltage_communication_time": now,
        "v_l1n": half_voltage,
        "v_l2n": half_voltage,
        "last_phase_power_communication_time": now,
        "real_power_a": half_power,
        "real_power_b": half_power,
        "reactive_power_a": reading.instant_reactive_power_var / 2.0,
        "reactive_power_b": reading.instant_reactive_power_var / 2.0,
        "last_phase_energy_communication_time": "0001-01-01T00:00:00Z",
        "serial_number": serial,
        "version": "fa0c1ad02efda3",
        "timeout": 1500000000,
        "instant_total_current": reading.instant_total_current_a,
    }


def _meter_entry(site: SiteState, location: str, reading: MeterState) -> dict[str, Json]:
    serial = _sync_serial(site)
    return {
        "id": 0,
        "location": location,
        "type": "synchrometerX",
        "cts": [True, True, False, False],
        "inverted": [False, False, False, False],
        "connection": {
            "short_id": site.gateway_din,
            "device_serial": serial + SYNC_SERIAL_SUFFIX,
            "https_conf": {},
        },
        "Cached_readings": cached_readings(site, reading, serial),
    }


def meters_site(site: SiteState, _config: SiteConfig) -> Json:
    return [_meter_entry(site, "site", site.site)]


def meters_solar(site: SiteState, _config: SiteConfig) -> Json:
    return [_meter_entry(site, "solar", site.solar)]


def meters(site: SiteState, _config: SiteConfig) -> Json:
    serial = _sync_serial(site) + SYNC_SERIAL_SUFFIX
    return [
        {"serial": _sync_serial(site) + "synchrometerY", "short_id": site.gateway_din},
        {
            "serial": serial,
            "short_id": site.gateway_din,
            "type": "synchrometerX",
            "cts": [
                {
                    "type": "site",
                    "valid": [True, True, False, False],
                    "inverted": [False, False, False, False],
                }
            ],
        },
    ]


def meters_readings(site: SiteState, _config: SiteConfig) -> Json:
    serial = _sync_serial(site) + SYNC_SERIAL_SUFFIX
    return {serial: {"type": "synchrometerX", "connected": site.grid_up, **_phase(site)}}


def _phase(site: SiteState) -> dict[str, Json]:
    return {
        "real_power": [site.site.instant_power_w / 2.0, site.site.instant_power_w / 2.0],
        "reactive_power": [site.site.instant_reactive_power_var / 2.0] * 2,
        "voltage": [site.site.instant_average_voltage_v / 2.0] * 2,
        "current": [site.site.instant_average_current_a / 2.0] * 2,
    }


def solar_powerwall(site: SiteState, _config: SiteConfig) -> Json:
    if not site.solar_inverters:
        return {}
    inverter = site.solar_inverters[0]
    strings = [s for s in site.strings if s.inverter_index == 0]
    return {
        "pvac_status": {
            "state": "PVAC_Active",
            "disabled": False,
            "disabled_reasons": [],
            "grid_state": "Grid_Compliant" if site.grid_up else "Grid_Uncompliant",
            "inv_state": "INV_Grid_Connected" if site.grid_up else "INV_Grid_Forming",
            "v_out": inverter.vout_v,
            "f_out": inverter.fout_hz,
            "p_out": inverter.power_w,
            "q_out": -10,
            "i_out": round(inverter.power_w / inverter.vout_v, 2) if inverter.vout_v else 0,
            "string_vitals": [
                {
                    "string_id": number,
                    "connected": s.connected,
                    "measured_voltage": s.voltage_v,
                    "current": s.current_a,
                    "measured_power": s.power_w,
                }
                for number, s in enumerate(strings, start=1)
            ],
        },
        "pvs_status": {
            "state": "PVS_GridSupporting",
            "disabled": False,
            "enable_output": True,
            "v_ll": inverter.vout_v,
            "self_test_state": "PVS_SelfTestOff",
        },
        "pv_power_limit": round(inverter.power_w * 1.05, 1),
        "power_status_setpoint": "on",
        "pvac_alerts": {
            "LastRxTime": go_timestamp(site.sim_time, site.timezone),
            "ReceivedMuxBitmask": 1,
            "PVAC_a001_inv_L1_HW_overcurrent": False,
            "PVAC_a002_inv_L2_HW_overcurrent": False,
            "PVAC_a009_SwAppBoot": False,
            # The "alert" fault's extra alert: what the local API shows of an active alert.
            **{name: True for name in site.alerts if name not in GATEWAY_ALERTS},
        },
        "pvs_alerts": _pvs_alerts(site, [s.letter for s in strings if not s.connected]),
    }


GATEWAY_ALERTS = frozenset({*BASE_ALERTS, "SystemConnectedToGrid"})  # not in pvac_alerts


def _pvs_alerts(site: SiteState, disconnected: list[str]) -> dict[str, Json]:
    alerts: dict[str, Json] = {
        "LastRxTime": go_timestamp(site.sim_time, site.timezone),
        "ReceivedMuxBitmask": 0,
        "PVS_a001_WatchdogReset": False,
        "PVS_a002_SW_App_Boot": False,
    }
    for number, letter in enumerate("ABCD", start=17):
        alerts[f"PVS_a{number:03d}_MciString{letter}"] = letter in disconnected
    return alerts


def networks(_site: SiteState, _config: SiteConfig) -> Json:
    return [
        _network("ethernet_tesla_internal_default", "EthType", True, 0, "////AA=="),
        _network("gsm_tesla_internal_default", "GsmType", False, 71, "/////w=="),
    ]


def _network(name: str, interface: str, primary: bool, signal: int, mask: str) -> Json:
    body: dict[str, Json] = {
        "network_name": name,
        "interface": interface,
        "enabled": True,
        "dhcp": True if primary else None,
    }
    if primary:
        body["extra_ips"] = [{"ip": "192.168.90.2", "netmask": 24}]
    body |= {
        "active": True,
        "primary": primary,
        "lastTeslaConnected": primary,
        "lastInternetConnected": primary,
        "iface_network_info": {
            "network_name": name,
            "ip_networks": [{"IP": "", "Mask": mask}],
            "gateway": "",
            "interface": interface,
            "state": "DeviceStateReady",
            "state_reason": "DeviceStateReasonNone",
            "signal_strength": signal,
            "hw_address": "",
        },
    }
    return body


def update_status(site: SiteState, _config: SiteConfig) -> Json:
    now_ms = int(site.sim_time * 1000)
    return {
        "state": "/update_succeeded",
        "info": {"status": ["nonactionable"]},
        "current_time": now_ms,
        "last_status_time": now_ms - 2_805_000,
        "version": site.firmware_version,
        "offline_updating": False,
        "offline_update_error": "",
        "estimated_bytes_per_second": None,
    }


def solars(_site: SiteState, config: SiteConfig) -> Json:
    rating = int(round(config.solar_peak_w, -2))
    return [{"brand": "Tesla", "model": "Solar Inverter 7.6", "power_rating_watts": rating}]


def installer(_site: SiteState, _config: SiteConfig) -> Json:
    return {
        "company": "Tesla",
        "customer_id": "",
        "phone": "",
        "email": "",
        "location": "",
        "mounting": "",
        "wiring": "",
        "backup_configuration": "Whole Home",
        "solar_installation": "New",
        "solar_installation_type": "PV Panel",
        "run_sitemaster": True,
        "verified_config": True,
        "installation_types": ["Residential"],
    }


def grid_codes(_site: SiteState, _config: SiteConfig) -> Json:
    return [dict(GRID_CODE)]


def registration(_site: SiteState, _config: SiteConfig) -> Json:
    return {
        "privacy_notice": None,
        "limited_warranty": None,
        "grid_services": None,
        "marketing": None,
        "registered": True,
        "timed_out_registration": False,
    }


STATIC_ROUTES: dict[str, Callable[[SiteState, SiteConfig], Json]] = {
    "/api/networks": networks,
    "/api/meters/site": meters_site,
    "/api/meters/solar": meters_solar,
    "/api/meters": meters,
    "/api/meters/readings": meters_readings,
    "/api/solar_powerwall": solar_powerwall,
    "/api/troubleshooting/problems": lambda _s, _c: {"problems": []},
    "/api/auth/toggle/supported": lambda _s, _c: {"toggle_auth_supported": True},
    "/api/customer/registration": registration,
    "/api/customer": lambda _s, _c: {"registered": True},
    "/api/site_info/grid_codes": grid_codes,
    "/api/system/update/status": update_status,
    "/api/solars": solars,
    "/api/installer": installer,
    "/api/synchrometer/ct_voltage_references": lambda _s, _c: {
        "ct1": "Phase1",
        "ct2": "Phase2",
        "ct3": "Phase1",
    },
}
