"""The legacy /api/devices/vitals answer (firmware before 23.44): a DevicesWithVitals
protobuf, built with the message class pypowerwall's local mode parses it with.

Each device is named "<TYPE>--<part>--<serial>" and carries typed vitals (ints, floats,
strings, booleans) in the real gateway's units: PINV_Pout/PINV_Qout in kW/kvar, energies
in Wh, voltages in V.
"""

from __future__ import annotations

from collections.abc import Mapping

from pypowerwall.local import tesla_pb2

from pypowerwall_server.simulator.state import PowerwallState, SiteState, SolarInverterState
from pypowerwall_server.simulator.tedapi_common import (
    SYNC_PART_NUMBER,
    escan_units,
    grid_connected_alerts,
    sync_serial,
    visible_units,
)
from pypowerwall_server.simulator.tedapi_solar import escan_inverters, strings_of

VitalValue = float | int | bool | str

ECU_STSTSM = 207
ECU_TETHC = 224
ECU_TEPOD = 226
ECU_TEPINV = 253
ECU_TESYNC = 259
ECU_PVAC = 296
ECU_PVS = 297


def render_devices_vitals(site: SiteState) -> bytes:
    message = tesla_pb2.DevicesWithVitals()
    gateway = f"STSTSM--{site.gateway_din}"
    _add(
        message,
        gateway,
        site.gateway_part_number,
        site.gateway_serial,
        None,
        ECU_STSTSM,
        {"STSTSM-Location": "Gateway"},
        grid_connected_alerts(site),
        site,
    )
    for pw in escan_units(visible_units(site)):
        _add_powerwall(message, site, pw, gateway)
    for index, inv in escan_inverters(site):
        _add_inverter(message, site, index, inv, gateway)
    sync = sync_serial(site)
    _add(
        message,
        f"TESYNC--{SYNC_PART_NUMBER}--{sync}",
        SYNC_PART_NUMBER,
        sync,
        gateway,
        ECU_TESYNC,
        _sync_vitals(site),
        [],
        site,
    )
    return bytes(message.SerializeToString())


def _add(
    message: tesla_pb2.DevicesWithVitals,
    din: str,
    part: str,
    serial: str,
    parent: str | None,
    ecu_type: int,
    vitals: Mapping[str, VitalValue],
    alerts: list[str],
    site: SiteState,
) -> None:
    entry = message.devices.add()
    device = entry.device.device
    device.din.value = din
    device.partNumber.value = part
    device.serialNumber.value = serial
    device.manufacturer.value = "TESLA"
    if parent is not None:
        device.componentParentDin.value = parent
    device.firmwareVersion.value = site.git_hash[:14]
    device.lastCommunicationTime.seconds = int(site.sim_time)
    device.deviceAttributes.teslaEnergyEcuAttributes.ecuType = ecu_type
    for name, value in vitals.items():
        vital = entry.vitals.add()
        vital.name = name
        if isinstance(value, bool):
            vital.boolValue = value
        elif isinstance(value, int):
            vital.intValue = value
        elif isinstance(value, float):
            vital.floatValue = value
        else:
            vital.stringValue = value
    entry.alerts.extend(alerts)


def _add_powerwall(
    message: tesla_pb2.DevicesWithVitals, site: SiteState, pw: PowerwallState, gateway: str
) -> None:
    thc = f"TETHC--{pw.part_number}--{pw.serial}"
    _add(
        message,
        thc,
        pw.part_number,
        pw.serial,
        gateway,
        ECU_TETHC,
        {"THC_AmbientTemp": pw.temperature_c, "THC_State": "THC_STATE_AUTONOMOUSCONTROL"},
        [],
        site,
    )
    pinv: dict[str, VitalValue] = {
        "PINV_EnergyCharged": float(round(pw.energy_charged_wh)),
        "PINV_EnergyDischarged": float(round(pw.energy_discharged_wh)),
        "PINV_Fout": pw.f_out_hz,
        "PINV_GridState": "Grid_Compliant" if site.grid_up else "Grid_Uncompliant",
        "PINV_Pout": round(pw.p_out_w / 1000.0, 3),
        "PINV_Qout": round(pw.q_out_var / 1000.0, 3),
        "PINV_State": pw.pinv_state,
        "PINV_VSplit1": pw.vsplit1_v,
        "PINV_VSplit2": pw.vsplit2_v,
        "PINV_Vout": pw.v_out_v,
        "PINV_PllLocked": True,
        "PINV_ReadyForGridForming": True,
    }
    _add(
        message,
        f"TEPINV--{pw.part_number}--{pw.serial}",
        pw.part_number,
        pw.serial,
        thc,
        ECU_TEPINV,
        pinv,
        [],
        site,
    )
    full = float(round(pw.nominal_full_pack_energy_wh))
    remaining = float(round(pw.nominal_energy_remaining_wh))
    pod: dict[str, VitalValue] = {
        "POD_ActiveHeating": pw.active_heating,
        "POD_ChargeComplete": pw.charge_complete,
        "POD_DischargeComplete": pw.discharge_complete,
        "POD_available_charge_power": pw.available_charge_power_w,
        "POD_available_dischg_power": pw.available_discharge_power_w,
        "POD_nom_energy_remaining": remaining,
        "POD_nom_energy_to_be_charged": full - remaining,
        "POD_nom_full_pack_energy": full,
        "POD_state": "POD_ACTIVE",
    }
    _add(
        message,
        f"TEPOD--{pw.part_number}--{pw.serial}",
        pw.part_number,
        pw.serial,
        thc,
        ECU_TEPOD,
        pod,
        [],
        site,
    )


def _add_inverter(
    message: tesla_pb2.DevicesWithVitals,
    site: SiteState,
    index: int,
    inv: SolarInverterState,
    gateway: str,
) -> None:
    pvac_din = f"PVAC--{inv.part_number}--{inv.serial}"
    pvac: dict[str, VitalValue] = {
        "PVAC_Fout": inv.fout_hz,
        "PVAC_Pout": inv.power_w,
        "PVAC_State": "PVAC_Active" if inv.power_w > 0 else "PVAC_Standby",
        "PVAC_Vout": inv.vout_v,
    }
    pvs: dict[str, VitalValue] = {"PVS_State": "PVS_Active", "PVS_vLL": inv.vout_v}
    for letter, string in sorted(strings_of(site, index).items()):
        pvac[f"PVAC_PVCurrent_{letter}"] = string.current_a
        pvac[f"PVAC_PVMeasuredVoltage_{letter}"] = string.voltage_v
        pvac[f"PVAC_PVMeasuredPower_{letter}"] = string.power_w
        pvac[f"PVAC_PvState_{letter}"] = "PV_Active" if string.connected else "PV_Disabled"
        pvs[f"PVS_String{letter}_Connected"] = string.connected
    _add(message, pvac_din, inv.part_number, inv.serial, gateway, ECU_PVAC, pvac, [], site)
    _add(
        message,
        f"PVS--{inv.part_number}--{inv.serial}",
        inv.part_number,
        inv.serial,
        pvac_din,
        ECU_PVS,
        pvs,
        [],
        site,
    )


def _sync_vitals(site: SiteState) -> dict[str, VitalValue]:
    grid = site.site
    leg = grid.instant_average_voltage_v / 2.0 if site.grid_up else 0.0
    return {
        "ISLAND_GridConnected": site.grid_up,
        "ISLAND_VL1N_Main": leg,
        "ISLAND_VL2N_Main": leg,
        "ISLAND_FreqL1_Main": grid.frequency_hz if site.grid_up else 0.0,
        "METER_X_CTA_InstRealPower": grid.instant_power_w / 2.0,
        "METER_X_CTB_InstRealPower": grid.instant_power_w / 2.0,
        "METER_X_CTA_I": grid.instant_average_current_a,
        "METER_X_CTB_I": grid.instant_average_current_a,
        "METER_X_VL1N": leg,
        "METER_X_VL2N": leg,
        "SYNC_ExternallyPowered": False,
    }
