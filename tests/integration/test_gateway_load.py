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

            def polls_done() -> int:
                return int(client.get("/stats").json()["gateways"]["g"]["polls"])

            before = polls_done()

            def polls() -> int:
                return polls_done() - before

            sim.reset_requests("g")
            requests, give_up = 0, time.monotonic() + 60
            # clients hammering every hot route, bounded by count and spanning several polls
            # (not a time window: a busy machine serves fewer requests per second)
            while requests < 200 or polls() < 4:
                assert time.monotonic() < give_up, (requests, polls())
                for path in ("/aggregates", "/vitals", "/csv", "/strings", "/api/aggregate/power"):
                    assert client.get(path).status_code == 200, path
                    requests += 1
            counts = sim.request_counts("g")
            done = polls()
    assert done >= 4
    # one device-controller query per poll; config, firmware and energy counters are slower
    assert counts.get("/tedapi/v1", 0) <= done + 1, counts
    assert sum(counts.values()) <= done + 2, counts
