"""`--demo`: the built-in simulator with two gateways (one TEDAPI, one local mode, different
sizes) on free loopback ports, and the server against them. No hardware needed."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from pypowerwall_server.settings import GatewayConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator

if TYPE_CHECKING:
    from pypowerwall_server.server_tls import HttpsSetup

log = logging.getLogger(__name__)

DEMO_SITES = (
    SiteConfig(
        gateway_id="home",
        seed=1,
        powerwalls=2,
        solar_peak_w=7600.0,
        site_name="Demo Home",
        gw_pwd="DEMOHOMEPW",
        customer_password="DEMOHOMEPW"[-5:],
    ),
    SiteConfig(
        gateway_id="cabin",
        seed=2,
        powerwalls=1,
        expansion_packs=1,
        solar_peak_w=3800.0,
        base_load_w=450.0,
        site_name="Demo Cabin",
        customer_password="cabin-demo",
        gw_pwd="DEMOCABINP",
        gateway_serial="TG987654321XYZ",
        powerwall_serial_prefix="TG9876543210",
    ),
)


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


def morning_today(timezone: str, now: float | None = None) -> float:
    """Today's 10:00 at the site, so a demo shows the sun working whenever it is started."""
    zone = ZoneInfo(timezone)
    today = datetime.datetime.fromtimestamp(time.time() if now is None else now, zone)
    return today.replace(hour=10, minute=0, second=0, microsecond=0).timestamp()


@contextmanager
def demo_settings(
    settings: Settings, sites: Sequence[SiteConfig] = DEMO_SITES
) -> Iterator[Settings]:
    """Start the simulator and yield the settings that point the server at it. The demo
    binds 127.0.0.1 unless another address than the default 0.0.0.0 was asked for."""
    sites = [replace(s, sim_start=s.sim_start or morning_today(s.timezone)) for s in sites]
    with running_simulator(sites, admin=False) as sim:
        interval = settings.gateways[0].poll_interval if settings.gateways else 5.0
        server = settings.server
        if server.bind_address == "0.0.0.0":
            server = server.model_copy(update={"bind_address": "127.0.0.1"})
        yield settings.model_copy(
            update={"gateways": demo_gateways(sim, interval), "demo": True, "server": server}
        )


def run_demo(settings: Settings, https: HttpsSetup | None = None) -> None:
    from pypowerwall_server.app import run_server

    with demo_settings(settings) as demo:
        host = demo.server.bind_address
        shown = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
        log.warning(
            "demo: simulated gateways 'home' and 'cabin'; open http://%s:%d/",
            shown,
            demo.server.port,
        )
        run_server(demo, https)
