"""Solar inverters as the gateway reports them.

A Tesla solar inverter (or a Powerwall+'s) is a PVAC/PVS pair on the esCan bus, strings
A-D. A Powerwall 3's own solar input (strings A-F) is reported by that Powerwall's PCH
component instead. An inverter belongs to a Powerwall 3 when it has that unit's serial, or
its part number and the same position among such inverters.
"""

from __future__ import annotations

from pypowerwall_server.simulator.state import (
    PowerwallState,
    SiteState,
    SolarInverterState,
    SolarStringState,
)
from pypowerwall_server.simulator.tedapi_common import APP_GIT_HASH, JsonDict, alerts_block

ESCAN_LETTERS = ("A", "B", "C", "D")


def pw3_inverter_indexes(site: SiteState) -> dict[str, int]:
    """Powerwall 3 serial -> index of the solar inverter that is its internal MPPT."""
    pw3s = [pw for pw in site.powerwalls if pw.kind == "powerwall3"]
    result: dict[str, int] = {}
    for pw in pw3s:
        for index, inv in enumerate(site.solar_inverters):
            if inv.serial == pw.serial:
                result[pw.serial] = index
    same_part = [
        index
        for index, inv in enumerate(site.solar_inverters)
        if index not in result.values() and any(inv.part_number == pw.part_number for pw in pw3s)
    ]
    unmatched = [pw for pw in pw3s if pw.serial not in result]
    for pw, index in zip(unmatched, same_part, strict=False):
        result[pw.serial] = index
    return result


def escan_inverters(site: SiteState) -> list[tuple[int, SolarInverterState]]:
    """(index, inverter) for inverters reported as esCan PVAC/PVS."""
    internal = set(pw3_inverter_indexes(site).values())
    return [(i, inv) for i, inv in enumerate(site.solar_inverters) if i not in internal]


def strings_of(site: SiteState, index: int) -> dict[str, SolarStringState]:
    return {s.letter: s for s in site.strings if s.inverter_index == index}


def pw3_strings(site: SiteState, pw: PowerwallState) -> dict[str, SolarStringState]:
    index = pw3_inverter_indexes(site).get(pw.serial)
    return {} if index is None else strings_of(site, index)


def pvac_entry(site: SiteState, index: int, inv: SolarInverterState) -> JsonDict:
    strings = strings_of(site, index)
    logging: JsonDict = {"isMIA": False}
    for letter in ESCAN_LETTERS:
        string = strings.get(letter)
        logging[f"PVAC_PVCurrent_{letter}"] = string.current_a if string else 0.0
        logging[f"PVAC_PVMeasuredVoltage_{letter}"] = string.voltage_v if string else 0.0
    logging["PVAC_VL1Ground"] = round(inv.vout_v / 2.0, 1)
    logging["PVAC_VL2Ground"] = round(inv.vout_v / 2.0, 1)
    return {
        "packagePartNumber": inv.part_number,
        "packageSerialNumber": inv.serial,
        "subPackagePartNumber": "",
        "subPackageSerialNumber": "",
        "PVAC_Status": {
            "isMIA": False,
            "PVAC_Pout": inv.power_w,
            "PVAC_State": "PVAC_Active" if inv.power_w > 0 else "PVAC_Standby",
            "PVAC_Vout": inv.vout_v,
            "PVAC_Fout": inv.fout_hz,
        },
        "PVAC_InfoMsg": {"PVAC_appGitHash": APP_GIT_HASH},
        "PVAC_Logging": logging,
        "alerts": alerts_block(),
    }


def pvs_entry(site: SiteState, index: int, inv: SolarInverterState) -> JsonDict:
    strings = strings_of(site, index)
    status: JsonDict = {
        "isMIA": False,
        "PVS_State": "PVS_Active",
        "PVS_vLL": inv.vout_v,
        "PVS_SelfTestState": "PVS_SelfTestOff",
    }
    for letter in ESCAN_LETTERS:
        string = strings.get(letter)
        status[f"PVS_String{letter}_Connected"] = bool(string and string.connected)
    return {
        "PVS_Status": status,
        "PVS_Logging": {"PVS_numStringsLockoutBits": [], "PVS_sbsComplete": True},
        "alerts": alerts_block(),
    }
