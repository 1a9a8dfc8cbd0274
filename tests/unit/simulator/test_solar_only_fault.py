"""The simulator's solar_only fault: a gateway's local answers lose the battery and grid
meters (the "solar only" state of a confused gateway); the site itself is unchanged."""

from __future__ import annotations

from dataclasses import replace

from pypowerwall_server.simulator.app_faults import AppSettings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.local_api import aggregates
from pypowerwall_server.simulator.tedapi_controller import _meter_aggregates

NOON = 1782070200.0


def test_solar_only_drops_battery_and_grid_meters_until_restored() -> None:
    gateway = SimulatedGateway(replace(SiteConfig.for_index(0), sim_start=NOON))
    settings = AppSettings(gateway)
    fault = Fault(kind="solar_only")
    previous = settings.current(fault)
    settings.apply(fault)
    state = gateway.state()
    assert set(aggregates(state, gateway.config)) == {"load", "solar"}
    assert [m["location"] for m in _meter_aggregates(state)][:2] == ["LOAD", "SOLAR"]
    assert state.battery.instant_power_w is not None  # the site still has its battery
    settings.restore(fault, previous)
    state = gateway.state()
    assert set(aggregates(state, gateway.config)) == {"site", "battery", "load", "solar"}
    assert "BATTERY" in [m["location"] for m in _meter_aggregates(state)]
