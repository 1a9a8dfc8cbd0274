"""Immutable state of one simulated site at one instant: the contract between the physical
model (model.py, which produces it) and the protocol renderers (local_api.py, tedapi.py,
which turn it into gateway answers).

Units and signs follow docs/architecture.md: power in W (site positive = importing, battery positive
= discharging, solar positive = producing, load positive = consuming; load = solar + battery +
site), energy in Wh, percentages 0-100. `soe_raw_percent` is the gateway's own scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OperatingMode = Literal["self_consumption", "backup", "autonomous"]
ExportRule = Literal["battery_ok", "pv_only", "never"]
GridStatus = Literal["SystemGridConnected", "SystemIslandedActive", "SystemTransitionToGrid"]
PowerwallKind = Literal["powerwall2", "powerwall_plus", "powerwall3", "expansion"]


@dataclass(frozen=True, slots=True)
class MeterState:
    """One of the four aggregate meters (site, battery, load, solar)."""

    instant_power_w: float
    instant_reactive_power_var: float
    instant_apparent_power_va: float
    frequency_hz: float
    energy_exported_wh: float  # lifetime, monotonic
    energy_imported_wh: float  # lifetime, monotonic
    instant_average_voltage_v: float
    instant_average_current_a: float
    instant_total_current_a: float


@dataclass(frozen=True, slots=True)
class PowerwallState:
    """One battery unit (a Powerwall or an expansion pack)."""

    kind: PowerwallKind
    part_number: str  # e.g. "3012170-05-B"
    serial: str  # e.g. "TG123456789ABC"
    nominal_full_pack_energy_wh: float
    nominal_energy_remaining_wh: float
    p_out_w: float  # positive = discharging
    q_out_var: float
    v_out_v: float
    f_out_hz: float
    i_out_a: float
    vsplit1_v: float
    vsplit2_v: float
    energy_charged_wh: float  # lifetime, monotonic
    energy_discharged_wh: float  # lifetime, monotonic
    temperature_c: float
    fan_actual_rpm: int
    fan_target_rpm: int
    pinv_state: str  # e.g. "PINV_GridFollowing", "PINV_GridForming"
    charge_complete: bool
    discharge_complete: bool
    active_heating: bool
    available_charge_power_w: float
    available_discharge_power_w: float
    firmware_version: str

    @property
    def din(self) -> str:
        return f"{self.part_number}--{self.serial}"


@dataclass(frozen=True, slots=True)
class SolarStringState:
    """One PV string on one solar inverter (PVAC/PVS), string letter A-F."""

    inverter_index: int  # 0-based index into SiteState.solar_inverters
    letter: str  # "A".."F"
    connected: bool
    voltage_v: float
    current_a: float
    power_w: float


@dataclass(frozen=True, slots=True)
class SolarInverterState:
    part_number: str  # e.g. "1538100-00-F"
    serial: str  # e.g. "C123456789JKL"
    power_w: float  # sum of its strings
    vout_v: float
    fout_hz: float

    @property
    def din(self) -> str:
        return f"{self.part_number}--{self.serial}"


@dataclass(frozen=True, slots=True)
class SiteState:
    """Everything a gateway can report about its site at `sim_time`."""

    sim_time: float  # simulated epoch seconds (advances with the acceleration factor)
    gateway_din: str  # e.g. "1232100-00-E--TG123456789ABC"
    gateway_part_number: str
    gateway_serial: str
    site_name: str
    timezone: str
    firmware_version: str  # e.g. "24.44.1 c58c2df3"
    git_hash: str
    uptime_seconds: float
    start_time: float  # epoch seconds when the gateway "booted"
    site: MeterState
    battery: MeterState
    load: MeterState
    solar: MeterState
    powerwalls: tuple[PowerwallState, ...]  # in gateway order; expansions included
    solar_inverters: tuple[SolarInverterState, ...]
    strings: tuple[SolarStringState, ...]
    grid_up: bool
    grid_status: GridStatus
    operating_mode: OperatingMode
    backup_reserve_raw_percent: float  # gateway scale, as /api/operation reports it
    grid_charging: bool
    export_rule: ExportRule
    soe_raw_percent: float  # gateway scale: 100 * remaining / full pack
    nominal_full_pack_energy_wh: float  # sum over units
    nominal_energy_remaining_wh: float  # sum over units
    alerts: tuple[str, ...]  # e.g. ("SystemConnectedToGrid", "FWUpdateSucceeded")
    missing_powerwall_serials: frozenset[str] = frozenset()  # hidden from vitals by a fault
    solar_only: bool = False  # a fault: local meter aggregates lack battery and grid
