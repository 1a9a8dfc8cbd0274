"""A wrong password is backed off, and said so once, with a hint.

The real pypowerwall logs in to our simulator with a wrong password (local mode: customer
password; TEDAPI: gateway password). The simulator's request log counts the login attempts.
The backoff is shortened so the test covers several backoff periods in seconds.
"""

from __future__ import annotations

import itertools
import logging
import time

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.gateway import poller
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

INTERVAL = 0.25
BACKOFF = 1.5  # first retry after a refusal (production: 60 s)
MAX_BACKOFF = 3.0
WATCH_S = 9.0
LOGIN_PATHS = {"local": "/api/login/Basic", "tedapi": "/tedapi/din"}
BURST_S = 0.5  # requests closer than this are one attempt (TEDAPI asks for its DIN twice)


def wrong_password(mode: str, host: str) -> GatewayConfig:
    if mode == "local":
        return GatewayConfig(
            id="gw", host=host, password=SecretStr("wrong"), email="a@b.c", poll_interval=INTERVAL
        )
    return GatewayConfig(id="gw", host=host, gw_pwd=SecretStr("WRONGWRONG"), poll_interval=INTERVAL)


def attempts(times: list[float]) -> list[float]:
    """Start times of login attempts: a burst of requests counts once."""
    starts: list[float] = []
    for t in sorted(times):
        if not starts or t - starts[-1] > BURST_S:
            starts.append(t)
    return starts


@pytest.mark.parametrize("mode", ["local", "tedapi"])
def test_wrong_password_is_backed_off(mode: str, monkeypatch, caplog) -> None:
    monkeypatch.setattr(poller, "AUTH_BACKOFF_S", BACKOFF)
    monkeypatch.setattr(poller, "MAX_AUTH_BACKOFF_S", MAX_BACKOFF)
    caplog.set_level(logging.INFO, logger="pypowerwall_server")
    with running_simulator([SiteConfig.for_index(0, seed=7)], admin=False) as sim:
        gateway = sim.gateways[0]
        settings = Settings(
            server=ServerConfig(bind_address="127.0.0.1"),
            gateways=(wrong_password(mode, gateway.host),),
        )
        with TestClient(create_app(settings)) as client:
            wait_until(lambda: client.get("/health").json()["gateways"][0]["problem"], 10)
            time.sleep(WATCH_S)
            health = client.get("/health").json()["gateways"][0]
            listed = client.get("/api/gateways").json()["gateways"][0]
        path = LOGIN_PATHS[mode]
        logins = [r.time for r in sim.recent_requests(gateway.id) if r.path == path]
        assert all(
            r.status in (401, 403) for r in sim.recent_requests(gateway.id) if r.path == path
        )

    starts = attempts(logins)
    # Without backoff: one attempt per interval (36 in 9 s). With it: 1.5, 3, 3, 3 s apart.
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps and min(gaps) >= BACKOFF * 0.8 - 0.05, gaps
    assert len(starts) <= 1 + WATCH_S / (BACKOFF * 0.8) and len(starts) <= 6, starts
    # Each attempt is one login (local) or the library's own pair of DIN requests (TEDAPI).
    assert len(logins) <= len(starts) * (1 if mode == "local" else 2)
    for entry in (health, listed):
        assert entry["problem"] == "auth_failed" and entry["online"] is False
        assert ("PW_PASSWORD" if mode == "local" else "PW_GW_PWD") in entry["hint"]
        assert str(401 if mode == "local" else 403) in entry["last_error"]
    # the poller says it once (the event stream records its own auth_failed event apart)
    said = [
        r.getMessage()
        for r in caplog.records
        if "auth_failed" in r.getMessage() and r.name == poller.__name__
    ]
    assert len(said) == 1 and "PW_" in said[0], said
