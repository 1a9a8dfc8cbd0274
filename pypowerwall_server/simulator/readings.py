"""Instantaneous electrical readings derived from the model's flows: meters, solar strings,
per-unit vitals. Pure functions of (seed, simulated time, flows, stored energies)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.dispatch import Flows
from pypowerwall_server.simulator.energy import Counters, UnitEnergy
from pypowerwall_server.simulator.noise import channel_key, jitter, uniform
from pypowerwall_server.simulator.profiles import local_hour_and_day
from pypowerwall_server.simulator.state import (
    MeterState,
    PowerwallState,
    SolarInverterState,
    SolarStringState,
)


@dataclass(frozen=True, slots=True)
class BusReadings:
    """Voltage and frequency of the grid (0 when down) and of the home's AC bus."""

    grid_voltage_v: float
    grid_frequency_hz: float
    home_voltage_v: float
    home_frequency_hz: float


def bus_readings(seed: int, t: float, grid_up: bool) -> BusReadings:
    voltage = 240.0 + jitter(channel_key(seed, "volts"), t, 120.0, 2.5)
    spread = 0.02 if grid_up else 0.06  # an islanded inverter holds frequency less tightly
    frequency = 60.0 + jitter(channel_key(seed, "hz"), t, 20.0, spread)
    if grid_up:
        return BusReadings(voltage, frequency, voltage, frequency)
    return BusReadings(0.0, 0.0, voltage, frequency)


def meter(
    power_w: float,
    reactive_var: float,
    voltage_v: float,
    frequency_hz: float,
    exported_wh: float,
    imported_wh: float,
) -> MeterState:
    current = abs(power_w) / voltage_v if voltage_v > 0 else 0.0
    return MeterState(
        instant_power_w=power_w,
        instant_reactive_power_var=reactive_var,
        instant_apparent_power_va=math.hypot(power_w, reactive_var),
        frequency_hz=frequency_hz,
        energy_exported_wh=exported_wh,
        energy_imported_wh=imported_wh,
        instant_average_voltage_v=voltage_v,
        instant_average_current_a=current,
        instant_total_current_a=current,
    )


def build_meters(
    seed: int,
    t: float,
    flows: Flows,
    bus: BusReadings,
    counters: Counters,
    units: Sequence[UnitEnergy],
) -> tuple[MeterState, MeterState, MeterState, MeterState]:
    """Site, battery, load and solar meters, in that order."""
    q = channel_key(seed, "reactive")
    site_q = round(-0.08 * flows.load_w + jitter(q, t, 30.0, 40.0)) if bus.grid_voltage_v else 0
    return (
        meter(
            flows.site_w,
            site_q,
            bus.grid_voltage_v,
            bus.grid_frequency_hz,
            counters.site_exported,
            counters.site_imported,
        ),
        meter(
            flows.battery_w,
            round(jitter(q ^ 1, t, 30.0, 60.0)),
            bus.home_voltage_v + 1.5,
            bus.home_frequency_hz,
            sum(u.discharged_wh for u in units),
            sum(u.charged_wh for u in units),
        ),
        meter(
            flows.load_w,
            round(-0.1 * flows.load_w + jitter(q ^ 2, t, 30.0, 30.0)),
            bus.home_voltage_v,
            bus.home_frequency_hz,
            0.0,
            counters.load_imported,
        ),
        meter(
            flows.solar_w,
            round(jitter(q ^ 3, t, 30.0, 20.0)),
            bus.home_voltage_v + 0.8,
            bus.home_frequency_hz,
            counters.solar_exported,
            0.0,
        ),
    )


def build_solar(
    config: SiteConfig, t: float, solar_w: float, bus: BusReadings
) -> tuple[tuple[SolarInverterState, ...], tuple[SolarStringState, ...]]:
    """Split the site's solar power over connected strings by their weights."""
    weights = [
        (index, letter, weight if letter not in inverter.disconnected_strings else 0.0)
        for index, inverter in enumerate(config.solar_inverters)
        for letter, weight in zip(inverter.string_letters, inverter.string_weights, strict=True)
    ]
    total = sum(w for _, _, w in weights) or 1.0
    strings = tuple(
        _string(config.seed, t, index, letter, solar_w * w / total, w > 0)
        for index, letter, w in weights
    )
    inverters = tuple(
        SolarInverterState(
            part_number=inverter.part_number,
            serial=inverter.serial,
            power_w=sum(s.power_w for s in strings if s.inverter_index == index),
            vout_v=bus.home_voltage_v + 1.2,
            fout_hz=bus.home_frequency_hz,
        )
        for index, inverter in enumerate(config.solar_inverters)
    )
    return inverters, strings


def _string(
    seed: int, t: float, inverter_index: int, letter: str, power_w: float, connected: bool
) -> SolarStringState:
    key = channel_key(seed, f"string-{inverter_index}-{letter}")
    if not connected:
        voltage = -2.0 + jitter(key, t, 60.0, 0.3)
    elif power_w >= 1.0:
        voltage = 330.0 + 40.0 * uniform(key, 0) + jitter(key, t, 45.0, 12.0)
    else:
        voltage = 10.0 + jitter(key, t, 300.0, 1.0)  # dark: a few volts on the open string
    current = power_w / voltage if voltage > 50.0 else 0.0
    return SolarStringState(
        inverter_index=inverter_index,
        letter=letter,
        connected=connected,
        voltage_v=round(voltage, 1),
        current_a=round(current, 2),
        power_w=float(round(power_w)),
    )


def build_unit(
    config: SiteConfig,
    index: int,
    unit: UnitEnergy,
    p_out_w: float,
    bus: BusReadings,
    t: float,
    firmware: str,
) -> PowerwallState:
    key = channel_key(config.seed, f"vitals-{index}")
    temperature = _unit_temperature(config, key, t, p_out_w)
    fan_target = 0 if temperature < 26.0 else min(3600, int(600 + (temperature - 26.0) * 300))
    fan_actual = max(0, fan_target + int(jitter(key ^ 7, t, 15.0, 25.0))) if fan_target else 0
    v_out = bus.home_voltage_v + 0.4 * uniform(key, 1)
    vsplit1 = v_out / 2.0 + jitter(key ^ 3, t, 60.0, 0.6)
    soe = 100.0 * unit.remaining_wh / unit.full_wh if unit.full_wh else 0.0
    unit_power = config.unit_max_power_w
    return PowerwallState(
        kind=unit.kind,
        part_number=unit.part_number,
        serial=unit.serial,
        nominal_full_pack_energy_wh=unit.full_wh,
        nominal_energy_remaining_wh=unit.remaining_wh,
        p_out_w=float(round(p_out_w)),
        q_out_var=float(round(jitter(key ^ 5, t, 30.0, 20.0))),
        v_out_v=round(v_out, 2),
        f_out_hz=round(bus.home_frequency_hz + jitter(key ^ 4, t, 10.0, 0.005), 3),
        i_out_a=round(p_out_w / v_out, 2) if v_out > 0 else 0.0,
        vsplit1_v=round(vsplit1, 2),
        vsplit2_v=round(v_out - vsplit1, 2),
        energy_charged_wh=unit.charged_wh,
        energy_discharged_wh=unit.discharged_wh,
        temperature_c=round(temperature, 1),
        fan_actual_rpm=fan_actual,
        fan_target_rpm=fan_target,
        pinv_state="PINV_GridFollowing" if bus.grid_voltage_v > 0 else "PINV_GridForming",
        charge_complete=soe >= 99.9,
        discharge_complete=soe <= 0.1,
        active_heating=temperature < 5.0,
        available_charge_power_w=0.0 if soe >= 99.9 else unit_power,
        available_discharge_power_w=0.0 if soe <= 0.1 else unit_power,
        firmware_version=firmware,
    )


def _unit_temperature(config: SiteConfig, key: int, t: float, p_out_w: float) -> float:
    hour, _ = local_hour_and_day(t, config.timezone)
    ambient = 17.0 + 6.0 * math.sin(2.0 * math.pi * (hour - 9.0) / 24.0)
    working = 9.0 * abs(p_out_w) / max(config.unit_max_power_w, 1.0)
    return ambient + working + 2.0 * uniform(key, 2) + jitter(key ^ 9, t, 600.0, 0.5)
