"""Shared pieces for tests that run the real pypowerwall over HTTPS against the simulator."""

from __future__ import annotations

from typing import Any

from pypowerwall_server.gateway.tls import honor_session_verify
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway

NOON_LOS_ANGELES = 1782070200.0  # 2026-06-21 12:30 PDT: the sun is up


def frozen_gateway(config: SiteConfig) -> SimulatedGateway:
    """A simulated gateway whose clock stands still, so every reader sees the same state."""
    return SimulatedGateway(config, clock=lambda: NOON_LOS_ANGELES)


def direct_powerwall(host: str, **credentials: Any) -> Any:
    """The real pypowerwall, as a user would construct it, for comparisons."""
    import pypowerwall

    honor_session_verify()
    return pypowerwall.Powerwall(
        host=host, timeout=5, failover=False, auto_select=False, **credentials
    )
