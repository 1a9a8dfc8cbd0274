"""Shared pieces for tests that run the real pypowerwall over HTTPS against the simulator."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from pypowerwall_server.gateway.library_log import (
    HTTP_LOGGER,
    LIBRARY_LOGGER,
    configure_library_logging,
)
from pypowerwall_server.gateway.tls import honor_session_verify
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningGateway, RunningSimulator
from tests.integration.server_process import free_port

if TYPE_CHECKING:
    from starlette.testclient import TestClient

NOON_LOS_ANGELES = 1782070200.0  # 2026-06-21 12:30 PDT: the sun is up


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    return free_port()


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


def local_gateway(sim: RunningSimulator, index: int, interval: float) -> GatewayConfig:
    """The simulator's gateway `index` over the local API, polled every `interval` s."""
    gw = sim.gateways[index]
    return GatewayConfig(
        id=gw.id,
        host=gw.host,
        password=SecretStr(gw.config.customer_password),
        email=gw.config.customer_email,
        poll_interval=interval,
        timeout=1.0,
    )


def one_gateway(gw: RunningGateway, **credentials: Any) -> Settings:
    """Settings for a server polling one simulated gateway every 0.5 s (1 s timeout)."""
    config = GatewayConfig(id=gw.id, host=gw.host, poll_interval=0.5, timeout=1.0, **credentials)
    return Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=(config,))


@contextlib.contextmanager
def healthy_client(gateways: tuple[GatewayConfig, ...]) -> Iterator[TestClient]:
    """The server (in-process) polling `gateways`, once every gateway has fresh data."""
    from starlette.testclient import TestClient

    from pypowerwall_server.app import create_app
    from tests.waiting import wait_until

    settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=gateways)
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/health").json()["status"] == "healthy", 60)
        yield client


class Printed(logging.Handler):
    """What the server's log handler (on the root logger) would print."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def printed() -> Iterator[Printed]:
    """The library loggers as `configure_logging` leaves them in a server (not --debug).
    (pytest's caplog also listens on non-propagating loggers, so it cannot tell.)"""
    loggers = [logging.getLogger(name) for name in (LIBRARY_LOGGER, HTTP_LOGGER)]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    root = logging.getLogger()
    root_level = root.level
    configure_library_logging(debug=False)
    handler = Printed()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(root_level)
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.setLevel(level)
            lg.propagate = propagate
