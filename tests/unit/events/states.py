"""GatewayStates as the hub publishes them, for the detector's tables."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pypowerwall_server.gateway.poller import GatewayState
from pypowerwall_server.gateway.transport_status import TransportState, TransportStatus
from pypowerwall_server.models import GatewayAttributes, MeterPower, Readings, Snapshot

ATTRIBUTES = GatewayAttributes("local", False, False, False, False, "off", None, "0.22.2")
BASE = Readings(
    power_w=MeterPower(site=500.0, battery=1000.0, load=1500.0, solar=0.0),
    soe_percent_app=62.0,
    energy_remaining_wh=13500.0,
    grid_status="UP",
    firmware_version="24.4.0",
    alerts=("FWUpdateSucceeded", "SystemConnectedToGrid"),
)


def online(at: float, **readings: Any) -> GatewayState:
    snapshot = Snapshot("home", at, {}, {}, ATTRIBUTES, replace(BASE, **readings))
    return GatewayState(
        "home", "Home", "local", 5.0, snapshot=snapshot, online=True, polls=1, last_attempt=at
    )


def offline(at: float, problem: str = "unreachable") -> GatewayState:
    return GatewayState(
        "home",
        "Home",
        "local",
        5.0,
        online=False,
        polls=1,
        failures=1,
        last_attempt=at,
        last_error="connection refused",
        problem=problem,
        hint="check PW_PASSWORD" if problem == "auth_failed" else None,
    )


def on_transport(state: GatewayState, active: str) -> GatewayState:
    links = tuple(TransportState(name, "ok", None, 0, None, None) for name in ("tedapi", "local"))
    return replace(state, transport=TransportStatus(active, links, 0, 0, None))
