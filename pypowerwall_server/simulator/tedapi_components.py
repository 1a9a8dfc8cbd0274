"""The ComponentsQuery answer of one Powerwall 3: inverter (pch), safety (pws), battery
management (bms) and high-voltage pack (hvp) of the unit and each of its expansion packs,
and the battery aggregator (baggr).

Units as the hardware reports them: BMS energies in kWh, PCH powers in W, voltages in V,
temperatures in degrees C, fan speeds in RPM and fan duty in percent. Expansion packs
belong to the first (leader) Powerwall 3.
"""

from __future__ import annotations

from pypowerwall_server.simulator.state import PowerwallState, SiteState
from pypowerwall_server.simulator.tedapi_common import JsonDict, expansions, visible_units
from pypowerwall_server.simulator.tedapi_msa import component, signal
from pypowerwall_server.simulator.tedapi_selection import Selection
from pypowerwall_server.simulator.tedapi_solar import pw3_strings

PW3_LETTERS = ("A", "B", "C", "D", "E", "F")
MAX_FAN_RPM = 3600.0


def unit_expansions(site: SiteState, pw: PowerwallState) -> tuple[PowerwallState, ...]:
    """Expansion packs cabled to this Powerwall 3 (all of them go to the leader)."""
    leader = next((u for u in site.powerwalls if u.kind == "powerwall3"), None)
    return expansions(site) if leader is not None and leader.serial == pw.serial else ()


def components_answer(site: SiteState, pw: PowerwallState | None, selection: Selection) -> JsonDict:
    """ComponentsQuery JSON for the Powerwall 3 `pw` (no components when the recipient is
    not a Powerwall 3), limited to the components and signals `selection` asks for."""
    catalog = _catalog(site, pw) if pw is not None else []
    return {
        "pw3Can": {"firmwareUpdate": {"isUpdating": False, "progress": None}},
        "components": selection.answer(catalog),
    }


def _catalog(site: SiteState, pw: PowerwallState) -> list[tuple[str, JsonDict]]:
    ts = int(site.sim_time)
    visible = {u.serial for u in visible_units(site)}
    packs = [pw, *(e for e in unit_expansions(site, pw) if e.serial in visible)]
    return [
        ("PW3SAF", component("", "", _pws_signals(ts))),
        ("PCH", component("", "", _pch_signals(site, pw, ts))),
        *(("PW3BMS", component("", "", _bms_signals(pack, ts))) for pack in packs),
        *(("PW3HVP", component(p.part_number, p.serial, _hvp_signals(p, ts))) for p in packs),
        ("BAGGR", component("", "", _baggr_signals(len(packs), ts))),
    ]


def _pws_signals(ts: int) -> list[JsonDict]:
    return [
        signal("PWS_SelfTest", "PWS_SELFTEST_PASS", ts),
        signal("PWS_PeImpTestState", "PWS_TEST_PASS", ts),
        signal("PWS_PvIsoTestState", "PWS_TEST_PASS", ts),
        signal("PWS_RelaySelfTest_State", "PWS_TEST_PASS", ts),
        signal("PWS_MciTestState", "PWS_TEST_PASS", ts),
        signal("PWS_ProdSwitch_State", "PWS_SWITCH_ON", ts),
    ]


def _pch_signals(site: SiteState, pw: PowerwallState, ts: int) -> list[JsonDict]:
    strings = pw3_strings(site, pw)
    solar_w = sum(s.power_w for s in strings.values())
    # The unit's inverter carries its expansion packs' DC power too.
    battery_w = pw.p_out_w + sum(e.p_out_w for e in unit_expansions(site, pw))
    signals = [
        signal("PCH_State", "PCH_STATE_ACTIVE", ts),
        signal("PCH_AcMode", "AcMode_GridFollowing" if site.grid_up else "AcMode_GridForming", ts),
        signal("PCH_AcFrequency", pw.f_out_hz, ts),
        signal("PCH_AcVoltageAB", pw.v_out_v, ts),
        signal("PCH_AcVoltageAN", pw.vsplit1_v, ts),
        signal("PCH_AcVoltageBN", pw.vsplit2_v, ts),
        signal("PCH_BatteryPower", battery_w, ts),
        signal("PCH_AcRealPowerAB", battery_w + solar_w, ts),
        signal("PCH_SlowPvPowerSum", solar_w, ts),
        signal("PCH_DcdcState_A", "DCDC_STATE_ACTIVE", ts),
        signal("PCH_DcdcState_B", "DCDC_STATE_ACTIVE", ts),
        signal("PCH_AmbientTemp", round(pw.temperature_c + 5.0, 1), ts),
        signal("PCH_heatsinkTemp", 45.450980, ts),
        *_fan_signals(pw, ts),
    ]
    for letter in PW3_LETTERS:
        string = strings.get(letter)
        state = "Pv_Active" if string is not None and string.connected else "Pv_Standby"
        signals.append(signal(f"PCH_PvState_{letter}", state, ts))
        signals.append(signal(f"PCH_PvVoltage{letter}", string.voltage_v if string else 0.0, ts))
        signals.append(signal(f"PCH_PvCurrent{letter}", string.current_a if string else 0.0, ts))
    return signals


def _fan_signals(pw: PowerwallState, ts: int) -> list[JsonDict]:
    duty = round(100.0 * pw.fan_target_rpm / MAX_FAN_RPM, 1)
    return [
        signal("PCH_FanSpeed_A", pw.fan_actual_rpm, ts),
        signal("PCH_FanSpeed_B", pw.fan_actual_rpm + 2 if pw.fan_actual_rpm else 0, ts),
        signal("PCH_FanDuty_A", duty, ts),
        signal("PCH_FanDuty_B", duty, ts),
    ]


def _bms_signals(pack: PowerwallState, ts: int) -> list[JsonDict]:
    return [
        signal("BMS_nominalEnergyRemaining", round(pack.nominal_energy_remaining_wh) / 1000.0, ts),
        signal("BMS_nominalFullPackEnergy", round(pack.nominal_full_pack_energy_wh) / 1000.0, ts),
        signal("BMS_LOG_tempOutOfBounds", 0, ts),
        signal("BMS_LOG_tempOutOfBoundsCharge", 0, ts),
        signal("BMS_kwhDischargeTotal", round(pack.energy_discharged_wh / 1000.0, 3), ts),
    ]


def _hvp_signals(pack: PowerwallState, ts: int) -> list[JsonDict]:
    return [
        signal("HVP_State", "HVP_STATE_ACTIVE", ts),
        signal("HVP_PackTempMax", round(pack.temperature_c, 1), ts),
        signal("HVP_PackTempMin", round(pack.temperature_c - 2.0, 1), ts),
        signal("HVP_ShuntTemperature", round(pack.temperature_c + 1.0, 1), ts),
    ]


def _baggr_signals(connected: int, ts: int) -> list[JsonDict]:
    return [
        signal("BAGGR_State", "BAGGR_STATE_ACTIVE", ts),
        signal("BAGGR_OperationRequest", "BAGGR_OPERATION_REQUEST_NONE", ts),
        signal("BAGGR_NumBatteriesConnected", connected, ts),
        signal("BAGGR_NumBatteriesPresent", connected, ts),
        signal("BAGGR_NumBatteriesExpected", connected, ts),
    ]
