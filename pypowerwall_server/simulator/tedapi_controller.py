"""The DeviceControllerQuery answer: the big status JSON pypowerwall reads for power,
state of energy, grid status, alerts and (with `full`) the msa components behind vitals,
temperatures, fans and uptime.

Units follow the real gateway, as pypowerwall reads them: meterAggregates and PINV_Pnom in
W, PINV_Pout in kW, POD energies in Wh, voltages line-to-neutral per leg (split phase, so a
240 V site reads ~120 V on VL1N and VL2N), SYNC_Uptime in ms.
"""

from __future__ import annotations

from pypowerwall_server.simulator.state import MeterState, PowerwallState, SiteState
from pypowerwall_server.simulator.tedapi_common import (
    APP_GIT_HASH,
    NOMINAL_POWER_W,
    SYNC_PART_NUMBER,
    JsonDict,
    alerts_block,
    escan_units,
    firmware_number,
    gateway_time,
    grid_connected_alerts,
    inverter_units,
    sync_serial,
    visible_units,
)
from pypowerwall_server.simulator.tedapi_msa import msa_catalog
from pypowerwall_server.simulator.tedapi_selection import Selection
from pypowerwall_server.simulator.tedapi_solar import escan_inverters, pvac_entry, pvs_entry


def device_controller(site: SiteState, *, full: bool, selection: Selection) -> JsonDict:
    """`full` is the variant with remote meters and support mode (get_device_controller),
    else the basic query (get_status); `selection` picks the msa components and signals."""
    doc: JsonDict = {
        "control": _control(site),
        "system": _system(site, full),
        "neurio": {"isDetectingWiredMeters": False, "readings": [], "pairings": []},
        "pw3Can": _pw3_can(full),
        "esCan": _es_can(site),
    }
    if selection.aliases:
        doc["components"] = selection.answer(msa_catalog(site))
    if full:
        doc["teslaRemoteMeter"] = {"meters": [], "detectedWired": []}
    return doc


def _control(site: SiteState) -> JsonDict:
    units = visible_units(site)
    return {
        "systemStatus": {
            "nominalFullPackEnergyWh": round(site.nominal_full_pack_energy_wh),
            "nominalEnergyRemainingWh": round(site.nominal_energy_remaining_wh),
        },
        "islanding": {
            "customerIslandMode": "BACKUP",
            "contactorClosed": site.grid_up,
            "microGridOK": True,
            "gridOK": site.grid_up,
            "disableReasons": [],
        },
        "meterAggregates": _meter_aggregates(site),
        "alerts": {"active": grid_connected_alerts(site)},
        "siteShutdown": {"isShutDown": False, "reasons": []},
        "batteryBlocks": [{"din": pw.din, "disableReasons": []} for pw in inverter_units(units)],
        "pvInverters": [{"din": inv.din, "disableReasons": []} for _, inv in escan_inverters(site)],
    }


def _meter_aggregates(site: SiteState) -> list[JsonDict]:
    readings = [
        ("BATTERY", site.battery.instant_power_w),
        ("SITE", site.site.instant_power_w),
        ("LOAD", site.load.instant_power_w),
        ("SOLAR", site.solar.instant_power_w),
        ("SOLAR_RGM", 0.0),
        ("GENERATOR", 0.0),
        ("CONDUCTOR", 0.0),
    ]
    dropped = ("BATTERY", "SITE") if site.solar_only else ()  # the "solar only" state
    return [
        {"location": location, "realPowerW": power}
        for location, power in readings
        if location not in dropped
    ]


def _system(site: SiteState, full: bool) -> JsonDict:
    system: JsonDict = {
        "time": gateway_time(site),
        "sitemanagerStatus": {"isRunning": True},
        "updateUrgencyCheck": {
            "urgency": "URGENCY_LOW",
            "version": {"version": firmware_number(site), "gitHash": site.git_hash},
            "timestamp": int(site.sim_time),
        },
    }
    if full:
        system["supportMode"] = {
            "remoteService": {"isEnabled": False, "expiryTime": 0, "sessionId": ""}
        }
    return system


def _pw3_can(full: bool) -> JsonDict:
    progress = {
        "updating": False,
        "numSteps": 0,
        "currentStep": 0,
        "currentStepProgress": 0,
        "progress": 0,
    }
    can: JsonDict = {"firmwareUpdate": {"isUpdating": False, "progress": progress}}
    if full:
        can["enumeration"] = {"inProgress": False}
    return can


def _es_can(site: SiteState) -> JsonDict:
    units = escan_units(visible_units(site))
    inverters = escan_inverters(site)
    return {
        "bus": {
            "PVAC": [pvac_entry(site, index, inv) for index, inv in inverters],
            "PINV": [_pinv(site, pw) for pw in units],
            "PVS": [pvs_entry(site, index, inv) for index, inv in inverters],
            "THC": [_thc(pw) for pw in units],
            "POD": [_pod(pw) for pw in units],
            "SYNC": _sync(site),
            "ISLANDER": _islander(site),
        },
        "enumeration": None,
        "firmwareUpdate": {"isUpdating": False, "numSteps": 0, "currentStep": 0},
        "inverterSelfTests": None,
        "phaseDetection": None,
    }


def _pinv(site: SiteState, pw: PowerwallState) -> JsonDict:
    return {
        "PINV_Status": {
            "isMIA": False,
            "PINV_Fout": pw.f_out_hz,
            "PINV_Pout": round(pw.p_out_w / 1000.0, 3),
            "PINV_Vout": pw.v_out_v,
            "PINV_State": pw.pinv_state,
            "PINV_GridState": "Grid_Compliant" if site.grid_up else "Grid_Uncompliant",
        },
        "PINV_AcMeasurements": {
            "isMIA": False,
            "PINV_VSplit1": pw.vsplit1_v,
            "PINV_VSplit2": pw.vsplit2_v,
        },
        "PINV_PowerCapability": {
            "isComplete": True,
            "isMIA": False,
            "PINV_Pnom": NOMINAL_POWER_W[pw.kind],
        },
        "alerts": alerts_block(),
    }


def _thc(pw: PowerwallState) -> JsonDict:
    return {
        "packagePartNumber": pw.part_number,
        "packageSerialNumber": pw.serial,
        "THC_InfoMsg": {"isComplete": True, "isMIA": False, "THC_appGitHash": APP_GIT_HASH},
        "THC_Logging": {"THC_LOG_PW_2_0_EnableLineState": "ENABLE_LINE_HIGH"},
        "alerts": alerts_block(),
    }


def _pod(pw: PowerwallState) -> JsonDict:
    return {
        "POD_EnergyStatus": {
            "isMIA": False,
            "POD_nom_energy_remaining": round(pw.nominal_energy_remaining_wh),
            "POD_nom_full_pack_energy": round(pw.nominal_full_pack_energy_wh),
        },
        "POD_InfoMsg": {"POD_appGitHash": APP_GIT_HASH},
        "alerts": alerts_block(),
    }


def _sync(site: SiteState) -> JsonDict:
    return {
        "packagePartNumber": SYNC_PART_NUMBER,
        "packageSerialNumber": sync_serial(site),
        "SYNC_InfoMsg": {"isMIA": False, "SYNC_appGitHash": APP_GIT_HASH, "SYNC_assemblyId": 3},
        "METER_X_AcMeasurements": _ct_meter("X", site.site, site.site.instant_average_voltage_v),
        "METER_Y_AcMeasurements": _ct_meter("Y", site.solar, site.solar.instant_average_voltage_v),
        "alerts": alerts_block(),
    }


def _ct_meter(name: str, meter: MeterState, voltage_ll: float) -> JsonDict:
    """Two CTs on the legs of a split-phase service: each carries half the power and the
    full line current; the third CT is unused."""
    half_power = meter.instant_power_w / 2.0
    half_reactive = meter.instant_reactive_power_var / 2.0
    current = meter.instant_average_current_a
    leg_voltage = voltage_ll / 2.0
    prefix = f"METER_{name}_"
    return {
        "isMIA": False,
        "isComplete": True,
        prefix + "CTA_InstRealPower": half_power,
        prefix + "CTA_InstReactivePower": half_reactive,
        prefix + "CTA_I": current,
        prefix + "VL1N": leg_voltage,
        prefix + "CTB_InstRealPower": half_power,
        prefix + "CTB_InstReactivePower": half_reactive,
        prefix + "CTB_I": current,
        prefix + "VL2N": leg_voltage,
        prefix + "CTC_InstRealPower": 0.0,
        prefix + "CTC_InstReactivePower": 0.0,
        prefix + "CTC_I": 0.0,
        prefix + "VL3N": 0.0,
        prefix + "LifetimeEnergyExport": meter.energy_exported_wh,
        prefix + "LifetimeEnergyImport": meter.energy_imported_wh,
    }


def _islander(site: SiteState) -> JsonDict:
    main_leg = site.site.instant_average_voltage_v / 2.0 if site.grid_up else 0.0
    main_hz = site.site.frequency_hz if site.grid_up else 0.0
    load_leg = site.load.instant_average_voltage_v / 2.0
    load_hz = site.load.frequency_hz
    connected = "ISLAND_GridConnected_Connected" if site.grid_up else "ISLAND_GridConnected_Island"
    grid_state = (
        "ISLAND_GridState_Grid_Compliant" if site.grid_up else "ISLAND_GridState_Grid_Uncompliant"
    )
    return {
        "ISLAND_GridConnection": {"ISLAND_GridConnected": connected, "isComplete": True},
        "ISLAND_AcMeasurements": {
            "isMIA": False,
            "isComplete": True,
            "ISLAND_VL1N_Main": main_leg,
            "ISLAND_VL2N_Main": main_leg,
            "ISLAND_VL3N_Main": 0.0,
            "ISLAND_FreqL1_Main": main_hz,
            "ISLAND_FreqL2_Main": main_hz,
            "ISLAND_FreqL3_Main": 0.0,
            "ISLAND_VL1N_Load": load_leg,
            "ISLAND_VL2N_Load": load_leg,
            "ISLAND_VL3N_Load": 0.0,
            "ISLAND_FreqL1_Load": load_hz,
            "ISLAND_FreqL2_Load": load_hz,
            "ISLAND_FreqL3_Load": 0.0,
            "ISLAND_GridState": grid_state,
            "ISLAND_L1L2PhaseDelta": -180.0,
            "ISLAND_L1L3PhaseDelta": 0.0,
            "ISLAND_L2L3PhaseDelta": 0.0,
            "ISLAND_L1MicrogridOk": True,
            "ISLAND_L2MicrogridOk": True,
            "ISLAND_L3MicrogridOk": False,
            "ISLAND_PhaseL1_Main_Load": 0.0,
            "ISLAND_PhaseL2_Main_Load": 0.0,
            "ISLAND_PhaseL3_Main_Load": 0.0,
            "ISLAND_ReadyForSynchronization": site.grid_up,
        },
    }
