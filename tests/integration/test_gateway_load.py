"""Client load adds no gateway traffic, and a TEDAPI poll costs one gateway request."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

pytestmark = pytest.mark.integration  # starts a server or the simulator


def test_tedapi_poll_costs_one_request_and_clients_add_none() -> None:
    with running_simulator([SiteConfig(gateway_id="g", seed=5)], admin=False) as sim:
        gw = sim.gateways[0]
        config = GatewayConfig(
            id="g", host=gw.host, gw_pwd=SecretStr(gw.config.gw_pwd), poll_interval=0.5
        )
        settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=(config,))
        with TestClient(create_app(settings)) as client:
            wait_until(lambda: client.get("/aggregates").status_code == 200, 30)
            polls_before = client.get("/stats").json()["gateways"]["g"]["polls"]
            sim.reset_requests("g")
            deadline = time.monotonic() + 3.0
            requests = 0
            while time.monotonic() < deadline:  # clients hammering every hot route
                for path in ("/aggregates", "/vitals", "/csv", "/strings", "/api/aggregate/power"):
                    assert client.get(path).status_code == 200, path
                    requests += 1
            counts = sim.request_counts("g")
            polls = client.get("/stats").json()["gateways"]["g"]["polls"] - polls_before
    assert requests > 100
    assert 4 <= polls <= 8
    # one device-controller query per poll; config, firmware and energy counters are slower
    assert counts.get("/tedapi/v1", 0) <= polls + 1, counts
    assert sum(counts.values()) <= polls + 2, counts
