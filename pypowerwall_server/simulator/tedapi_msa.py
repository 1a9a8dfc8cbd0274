"""components.msa of the full DeviceControllerQuery: per-component signal lists.

Order matters to pypowerwall: each Powerwall 2 package's TETHC component (package serial)
is followed by its TEPINV component (battery module serial) and that module's TEPOD;
pypowerwall pairs packages with modules by exactly this order. Fan and sync components
come after all packages.
"""

from __future__ import annotations

from pypowerwall_server.simulator.state import PowerwallState, SiteState
from pypowerwall_server.simulator.tedapi_common import (
    PW2_MODULE_PART_NUMBER,
    SYNC_PART_NUMBER,
    JsonDict,
    escan_units,
    module_serial,
    sync_serial,
    visible_units,
)

SignalValue = float | int | bool | str | None


def signal(name: str, value: SignalValue, timestamp: int = 0) -> JsonDict:
    """One gateway signal: numbers in `value`, booleans in `boolValue`, enums in
    `textValue`, the other two null."""
    entry: JsonDict = {
        "name": name,
        "value": None,
        "textValue": None,
        "boolValue": None,
        "timestamp": timestamp,
    }
    if isinstance(value, bool):
        entry["boolValue"] = value
    elif isinstance(value, str):
        entry["textValue"] = value
    else:
        entry["value"] = value
    return entry


def component(part: str, serial: str, signals: list[JsonDict]) -> JsonDict:
    return {
        "partNumber": part,
        "serialNumber": serial,
        "activeAlerts": [],
        "signals": signals,
    }


def msa_catalog(site: SiteState) -> list[tuple[str, JsonDict]]:
    """Every msa component with its type and all its signals, in gateway order; the
    query's component filter and signal names pick from it."""
    units = escan_units(visible_units(site))
    ts = int(site.sim_time)
    result: list[tuple[str, JsonDict]] = []
    for pw in units:
        result.extend(_package(pw, ts))
    result.extend(("PVAC", _fans(pw, ts)) for pw in units)
    result.append(("TESYNC", _sync(site, ts)))
    return result


def _package(pw: PowerwallState, ts: int) -> list[tuple[str, JsonDict]]:
    module = module_serial(pw)
    thc = component(
        pw.part_number,
        pw.serial,
        [
            signal("THC_AmbientTemp", pw.temperature_c, ts),
            signal("THC_State", "THC_STATE_AUTONOMOUSCONTROL", ts),
        ],
    )
    pinv = component(
        PW2_MODULE_PART_NUMBER,
        module,
        [
            signal("PINV_EnergyCharged", round(pw.energy_charged_wh), ts),
            signal("PINV_EnergyDischarged", round(pw.energy_discharged_wh), ts),
            signal("PINV_LifetimeEnergyCharged", round(pw.energy_charged_wh), ts),
            signal("PINV_LifetimeEnergyDischarged", round(pw.energy_discharged_wh), ts),
            signal("PINV_HeatsinkTemp", round(pw.temperature_c + 6.0, 1), ts),
            signal("PINV_PllFrequency", pw.f_out_hz, ts),
            signal("PINV_PllLocked", True, ts),
            signal("PINV_Qout", round(pw.q_out_var / 1000.0, 3), ts),
            signal("PINV_ReadyForGridForming", True, ts),
            signal("PINV_HardwareEnableLine", True, ts),
            signal("PINV_PowerLimiter", "PWRLIM_POD_Power_Limit", ts),
        ],
    )
    pod = component(
        PW2_MODULE_PART_NUMBER,
        module,
        [
            signal("POD_available_charge_power", pw.available_charge_power_w, ts),
            signal("POD_available_dischg_power", pw.available_discharge_power_w, ts),
        ],
    )
    return [("TETHC", thc), ("TEPINV", pinv), ("TEPOD", pod)]


def _fans(pw: PowerwallState, ts: int) -> JsonDict:
    return component(
        pw.part_number,
        pw.serial,
        [
            signal("PVAC_Fan_Speed_Actual_RPM", pw.fan_actual_rpm, ts),
            signal("PVAC_Fan_Speed_Target_RPM", pw.fan_target_rpm, ts),
        ],
    )


def _sync(site: SiteState, ts: int) -> JsonDict:
    return component(
        SYNC_PART_NUMBER,
        sync_serial(site),
        [
            signal("SYNC_Uptime", round(site.uptime_seconds * 1000.0), ts),
            signal("SYNC_ExternallyPowered", False, ts),
            signal("SYNC_SiteSwitchEnabled", False, ts),
        ],
    )
