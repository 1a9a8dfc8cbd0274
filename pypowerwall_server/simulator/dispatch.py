"""The site controller's decision for one instant: given what the sun offers and the house
asks, how much the battery charges or discharges and what the grid supplies.

Returned flows always balance exactly: load = solar + battery + site (whole watts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pypowerwall_server.simulator.state import ExportRule, OperatingMode

DEADBAND_WH = 1.0  # closer than this to full or to the floor, the battery idles


@dataclass(frozen=True, slots=True)
class BatteryPack:
    """The site's batteries as the controller sees them (all units together)."""

    remaining_wh: float
    full_wh: float
    max_power_w: float

    @property
    def soe_percent(self) -> float:
        return 100.0 * self.remaining_wh / self.full_wh if self.full_wh > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    mode: OperatingMode
    reserve_raw_percent: float
    grid_up: bool
    grid_charging: bool
    export_rule: ExportRule


@dataclass(frozen=True, slots=True)
class Flows:
    """Signs per docs/architecture.md: site + = importing, battery + = discharging."""

    load_w: float
    solar_w: float
    battery_w: float
    site_w: float


def charge_limit_w(pack: BatteryPack, horizon_s: float) -> float:
    """Most the pack can take for `horizon_s`: full power, tapering over the last 2 %."""
    taper = min(1.0, max(0.0, (100.0 - pack.soe_percent) / 2.0))
    headroom_wh = pack.full_wh - pack.remaining_wh
    if headroom_wh < DEADBAND_WH:
        return 0.0
    return min(pack.max_power_w * taper, headroom_wh * 3600.0 / horizon_s)


def discharge_limit_w(pack: BatteryPack, floor_wh: float, horizon_s: float) -> float:
    """Most the pack can give for `horizon_s` without going below `floor_wh`."""
    above_floor_wh = pack.remaining_wh - floor_wh
    if above_floor_wh < DEADBAND_WH:
        return 0.0
    return min(pack.max_power_w, above_floor_wh * 3600.0 / horizon_s)


def decide(
    solar_available_w: float,
    load_demand_w: float,
    pack: BatteryPack,
    settings: Settings,
    horizon_s: float,
) -> Flows:
    solar = float(round(solar_available_w))
    load = float(round(load_demand_w))
    if settings.grid_up:
        return _on_grid(solar, load, pack, settings, horizon_s)
    return _islanded(solar, load, pack, horizon_s)


def _on_grid(
    solar: float, load: float, pack: BatteryPack, settings: Settings, horizon_s: float
) -> Flows:
    charge_cap = charge_limit_w(pack, horizon_s)
    floor_wh = settings.reserve_raw_percent / 100.0 * pack.full_wh
    # From solar only, or from the grid as well when grid charging is allowed.
    refill_w = min(charge_cap, pack.max_power_w if settings.grid_charging else solar)
    if settings.mode == "backup":
        battery = -refill_w  # never discharges on grid: held full for an outage
    elif pack.remaining_wh < floor_wh - DEADBAND_WH:
        # Below the reserve (it was just raised): climb back to it with all the sun
        # (the grid serves the house meanwhile), at least what self-consumption would take.
        battery = -max(refill_w, min(max(solar - load, 0.0), charge_cap))
    else:  # self_consumption; autonomous behaves the same in the simulator
        discharge_cap = discharge_limit_w(pack, floor_wh, horizon_s)
        battery = min(max(load - solar, -charge_cap), discharge_cap)
    battery = float(math.trunc(battery))  # toward zero: never past a limit
    site = load - solar - battery
    if site < 0 and settings.export_rule == "never":
        solar += site  # curtail what would have been exported
        site = 0.0
    return Flows(load_w=load, solar_w=solar, battery_w=battery, site_w=site)


def dispatched(
    solar_available_w: float,
    load_demand_w: float,
    pack: BatteryPack,
    power_w: float,
    grid_up: bool,
    horizon_s: float,
) -> Flows:
    """A battery dispatch (v1r): the battery follows `power_w` (+ discharge) within the
    pack's own limits, below the reserve down to empty and exporting whatever the export
    rule says; the grid balances the rest. Off grid the island rules still hold."""
    solar = float(round(solar_available_w))
    load = float(round(load_demand_w))
    if not grid_up:
        return _islanded(solar, load, pack, horizon_s)
    if power_w >= 0:
        battery = min(power_w, discharge_limit_w(pack, 0.0, horizon_s))
    else:
        battery = -min(-power_w, charge_limit_w(pack, horizon_s))
    battery = float(math.trunc(battery))
    return Flows(load_w=load, solar_w=solar, battery_w=battery, site_w=load - solar - battery)


def _islanded(solar: float, load: float, pack: BatteryPack, horizon_s: float) -> Flows:
    """Off grid the battery alone balances the house, down to empty: a shortfall sheds
    load, a surplus it cannot absorb curtails solar."""
    need = load - solar
    if need >= 0:
        battery = float(math.trunc(min(need, discharge_limit_w(pack, 0.0, horizon_s))))
        load = solar + battery
    else:
        battery = float(math.trunc(max(need, -charge_limit_w(pack, horizon_s))))
        solar = load - battery
    return Flows(load_w=load, solar_w=solar, battery_w=battery, site_w=0.0)
