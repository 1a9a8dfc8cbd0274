"""The physical model of one simulated site.

`SiteModel` keeps the only mutable facts (energy in each battery unit, lifetime counters,
settings) and integrates them in sub-steps as simulated time advances, which it does at
real time x `time_acceleration`. Everything instantaneous (solar, load, dispatch, meter
readings, vitals) is recomputed from those facts and deterministic noise, so the same seed
and the same clock readings give the same states. Not thread-safe: the gateway locks.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

from pypowerwall_server.simulator.config import EXPANSION_PART_NUMBER, SiteConfig
from pypowerwall_server.simulator.dispatch import (
    BatteryPack,
    Flows,
    Settings,
    decide,
    dispatched,
)
from pypowerwall_server.simulator.energy import Counters, UnitEnergy
from pypowerwall_server.simulator.noise import channel_key, uniform
from pypowerwall_server.simulator.profiles import SiteProfile
from pypowerwall_server.simulator.readings import (
    BusReadings,
    build_meters,
    build_solar,
    build_unit,
    bus_readings,
)
from pypowerwall_server.simulator.state import (
    ExportRule,
    OperatingMode,
    PowerwallState,
    SiteState,
)

MAX_STEP_S = 30.0  # simulated seconds per integration sub-step
MAX_STEPS_PER_ADVANCE = 5000  # longer jumps use longer sub-steps; limits stay enforced
BASE_ALERTS = ("FWUpdateSucceeded", "PodCommissionTime", "GridCodesWrite")


class SiteModel:
    def __init__(self, config: SiteConfig, real_start: float) -> None:
        self.config = config
        self._real_start = real_start
        self._last_real = real_start
        self.sim_start = config.sim_start if config.sim_start is not None else real_start
        self.sim_time = self.sim_start
        self.settings = Settings(
            mode=config.operating_mode,
            reserve_raw_percent=config.backup_reserve_raw_percent,
            grid_up=True,
            grid_charging=config.grid_charging,
            export_rule=config.export_rule,
        )
        self.firmware_version = config.firmware_version
        self.missing_index: int | None = None
        self.extra_alert: str | None = None  # the "alert" fault's
        self.solar_only = False  # a fault: local meter aggregates lose battery and grid
        self.backup_until: float | None = None  # simulated time a manual backup event ends
        self.dispatch: tuple[float, float] | None = None  # (battery W, simulated end time)
        self._profile = SiteProfile(
            config.seed, config.timezone, config.solar_peak_w, config.base_load_w
        )
        self.units = _initial_units(config)
        self.counters = _initial_counters(config)
        boot_hours = 100.0 + 60.0 * uniform(channel_key(config.seed, "boot"), 0)
        self.boot_time = self.sim_start - boot_hours * 3600.0

    # --- time ---
    def advance(self, real_now: float) -> None:
        """Integrate up to the simulated instant that corresponds to `real_now`."""
        if real_now <= self._last_real:
            return  # the clock never runs backwards for the site
        self._last_real = real_now
        target = self.sim_start + (real_now - self._real_start) * self.config.time_acceleration
        self.advance_sim(target - self.sim_time)

    def advance_sim(self, seconds: float) -> None:
        """Integrate `seconds` of simulated time in bounded sub-steps."""
        if seconds <= 0:
            return
        steps = min(MAX_STEPS_PER_ADVANCE, max(1, math.ceil(seconds / MAX_STEP_S)))
        step = seconds / steps
        for _ in range(steps):
            self._integrate(self.flows(step), step)
            self.sim_time += step

    def flows(self, horizon_s: float = 1.0) -> Flows:
        """Power flows now, with battery limits that hold for the next `horizon_s`."""
        t = self.sim_time
        if self.dispatch is not None and t < self.dispatch[1]:
            return dispatched(
                self._profile.solar_available_w(t),
                self._profile.load_demand_w(t),
                self.pack(),
                self.dispatch[0],
                self.settings.grid_up,
                horizon_s,
            )
        return decide(
            self._profile.solar_available_w(t),
            self._profile.load_demand_w(t),
            self.pack(),
            self.effective_settings(),
            horizon_s,
        )

    def effective_settings(self) -> Settings:
        """The settings the controller follows now: a manual backup event (storm watch)
        holds the battery as a 100 % reserve would until it ends."""
        if self.backup_until is not None and self.sim_time < self.backup_until:
            return replace(self.settings, reserve_raw_percent=100.0)
        return self.settings

    def pack(self) -> BatteryPack:
        powerwalls = self.config.powerwalls
        return BatteryPack(
            remaining_wh=sum(u.remaining_wh for u in self.units),
            full_wh=sum(u.full_wh for u in self.units),
            max_power_w=self.config.unit_max_power_w * powerwalls,
        )

    def _integrate(self, flows: Flows, step_s: float) -> None:
        hours = step_s / 3600.0
        self.counters.site_imported += max(flows.site_w, 0.0) * hours
        self.counters.site_exported += max(-flows.site_w, 0.0) * hours
        self.counters.load_imported += max(flows.load_w, 0.0) * hours
        self.counters.solar_exported += max(flows.solar_w, 0.0) * hours
        for unit, share in zip(self.units, unit_shares(self.units, flows.battery_w), strict=True):
            delta_wh = -flows.battery_w * share * hours  # positive = charging
            unit.remaining_wh = min(unit.full_wh, max(0.0, unit.remaining_wh + delta_wh))
            unit.charged_wh += max(delta_wh, 0.0)
            unit.discharged_wh += max(-delta_wh, 0.0)

    # --- settings ---
    def set_operation(self, mode: OperatingMode | None, reserve_raw_percent: float | None) -> None:
        if mode is not None:
            self.settings = replace(self.settings, mode=mode)
        if reserve_raw_percent is not None:
            reserve = min(100.0, max(0.0, reserve_raw_percent))
            self.settings = replace(self.settings, reserve_raw_percent=reserve)

    def set_grid_up(self, up: bool) -> None:
        self.settings = replace(self.settings, grid_up=up)

    def set_grid_charging(self, enabled: bool) -> None:
        self.settings = replace(self.settings, grid_charging=enabled)

    def set_export_rule(self, rule: ExportRule) -> None:
        self.settings = replace(self.settings, export_rule=rule)

    def set_manual_backup(self, duration_s: float | None) -> None:
        """Hold the battery for `duration_s` real seconds from now (None: cancel)."""
        if duration_s is None:
            self.backup_until = None
        else:
            self.backup_until = self.sim_time + duration_s * self.config.time_acceleration

    def set_dispatch(self, power_w: float | None, duration_s: float = 0.0) -> None:
        """Battery power `power_w` (+ discharge) for `duration_s` real seconds from now;
        None resumes the configured mode at once."""
        if power_w is None:
            self.dispatch = None
        else:
            self.dispatch = (power_w, self.sim_time + duration_s * self.config.time_acceleration)

    # --- snapshot ---
    def state(self) -> SiteState:
        flows = self.flows()
        bus = bus_readings(self.config.seed, self.sim_time, self.settings.grid_up)
        meters = build_meters(
            self.config.seed, self.sim_time, flows, bus, self.counters, self.units
        )
        inverters, strings = build_solar(self.config, self.sim_time, flows.solar_w, bus)
        pack = self.pack()
        return SiteState(
            sim_time=self.sim_time,
            gateway_din=self.config.gateway_din,
            gateway_part_number=self.config.gateway_part_number,
            gateway_serial=self.config.gateway_serial,
            site_name=self.config.site_name,
            timezone=self.config.timezone,
            firmware_version=self.firmware_version,
            git_hash=git_hash(self.firmware_version),
            uptime_seconds=self.sim_time - self.boot_time,
            start_time=self.boot_time,
            site=meters[0],
            battery=meters[1],
            load=meters[2],
            solar=meters[3],
            powerwalls=self._unit_states(flows, bus),
            solar_inverters=inverters,
            strings=strings,
            grid_up=self.settings.grid_up,
            grid_status="SystemGridConnected" if self.settings.grid_up else "SystemIslandedActive",
            operating_mode=self.settings.mode,
            backup_reserve_raw_percent=self.settings.reserve_raw_percent,
            grid_charging=self.settings.grid_charging,
            export_rule=self.settings.export_rule,
            soe_raw_percent=pack.soe_percent,
            nominal_full_pack_energy_wh=pack.full_wh,
            nominal_energy_remaining_wh=pack.remaining_wh,
            alerts=self._alerts(),
            missing_powerwall_serials=self._missing_serials(),
            solar_only=self.solar_only,
        )

    def _unit_states(self, flows: Flows, bus: BusReadings) -> tuple[PowerwallState, ...]:
        shares = unit_shares(self.units, flows.battery_w)
        return tuple(
            build_unit(
                self.config,
                index,
                unit,
                flows.battery_w * share,
                bus,
                self.sim_time,
                unit_firmware(self.firmware_version),
            )
            for index, (unit, share) in enumerate(zip(self.units, shares, strict=True))
        )

    def _alerts(self) -> tuple[str, ...]:
        extra = (self.extra_alert,) if self.extra_alert else ()
        if self.settings.grid_up:
            return (*BASE_ALERTS, *extra, "SystemConnectedToGrid")
        return (*BASE_ALERTS, *extra)

    def _missing_serials(self) -> frozenset[str]:
        index = self.missing_index
        if index is None or not 0 <= index < len(self.units):
            return frozenset()
        return frozenset({self.units[index].serial})


def unit_shares(units: list[UnitEnergy], battery_w: float) -> list[float]:
    """How battery power splits across units: charging fills by free room, discharging
    drains by energy held, so units converge instead of one hitting a limit first."""
    if battery_w < 0:
        weights = [u.full_wh - u.remaining_wh for u in units]
    else:
        weights = [u.remaining_wh for u in units]
    total = sum(weights)
    if total <= 0:
        return [1.0 / len(units)] * len(units) if units else []
    return [w / total for w in weights]


def git_hash(firmware_version: str) -> str:
    """A stable 40-hex git hash whose prefix is the version's short hash when it has one."""
    parts = firmware_version.split(" ")
    short = parts[1] if len(parts) > 1 else ""
    digest = hashlib.sha1(firmware_version.encode()).hexdigest()
    return (short + digest)[:40]


def unit_firmware(firmware_version: str) -> str:
    """Battery units report a 14-hex firmware hash tied to the gateway firmware."""
    return git_hash(firmware_version)[:14]


def _initial_units(config: SiteConfig) -> list[UnitEnergy]:
    units = []
    for index in range(config.unit_count):
        key = channel_key(config.seed, f"unit-{index}")
        full = round(config.unit_capacity_wh * (0.97 + 0.04 * uniform(key, 0)))
        soe = min(100.0, max(0.0, config.initial_soe_raw_percent + 2.0 * uniform(key, 1) - 1.0))
        is_expansion = index >= config.powerwalls
        units.append(
            UnitEnergy(
                kind="expansion" if is_expansion else config.powerwall_kind,
                part_number=EXPANSION_PART_NUMBER if is_expansion else config.powerwall_part_number,
                serial=config.unit_serial(index),
                full_wh=float(full),
                remaining_wh=full * soe / 100.0,
                charged_wh=float(round(1_500_000 + 900_000 * uniform(key, 2))),
                discharged_wh=float(round(1_300_000 + 800_000 * uniform(key, 3))),
            )
        )
    return units


def _initial_counters(config: SiteConfig) -> Counters:
    key = channel_key(config.seed, "counters")
    return Counters(
        site_imported=round(800_000 + 400_000 * uniform(key, 0), 3),
        site_exported=round(200_000 + 300_000 * uniform(key, 1), 3),
        load_imported=round(1_100_000 + 500_000 * uniform(key, 2), 3),
        solar_exported=round(250_000 + 400_000 * uniform(key, 3), 3),
    )
