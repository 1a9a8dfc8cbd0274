"""The demo's two simulated sites read the plain ways (home over TEDAPI, cabin over the local
API), without the v1r key the demo itself uses for writes: publishers only read."""

from __future__ import annotations

from pydantic import SecretStr

from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.simulator.runner import RunningSimulator


def demo_gateways(sim: RunningSimulator, poll_interval: float) -> tuple[GatewayConfig, ...]:
    home, cabin = sim.gateways
    return (
        GatewayConfig(
            id="home",
            name="Demo Home (TEDAPI)",
            host=home.host,
            gw_pwd=SecretStr(home.config.gw_pwd),
            poll_interval=poll_interval,
        ),
        GatewayConfig(
            id="cabin",
            name="Demo Cabin (local API)",
            host=cabin.host,
            password=SecretStr(cabin.config.customer_password),
            email=cabin.config.customer_email,
            poll_interval=poll_interval,
        ),
    )
