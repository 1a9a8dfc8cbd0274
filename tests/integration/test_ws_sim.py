"""The streams on the simulator, read by the real pypowerwall over HTTPS: a client gets the
current state first, then an update when the simulated site changes (a grid outage)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.waiting import wait_until

from .conftest import NOON_LOS_ANGELES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    site = SiteConfig(gateway_id="home", seed=4, powerwalls=1, sim_start=NOON_LOS_ANGELES)
    with running_simulator((site,)) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[TestClient]:
    from tests.api.ws_app import FAST, streams_app

    (home,) = sim.gateways
    gateway = GatewayConfig(
        id="home", host=home.host, gw_pwd=SecretStr(home.config.gw_pwd), poll_interval=0.5
    )
    settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=(gateway,))
    app = streams_app(settings, _default_adapter, FAST)
    with TestClient(app) as test_client:
        wait_until(lambda: test_client.get("/health").json()["status"] == "healthy", 60)
        yield test_client


def _default_adapter(config: GatewayConfig) -> Any:
    from pypowerwall_server.app import default_adapter_factory

    return default_adapter_factory(config)


def next_matching(ws: Any, predicate: Any, limit: int = 300) -> dict[str, Any]:
    for _ in range(limit):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] != "heartbeat" and predicate(message):
            return message
    raise AssertionError("no matching message")


def test_snapshot_then_update_on_grid_outage(client: TestClient, sim: RunningSimulator) -> None:
    with client.websocket_connect("/ws/aggregate") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot"
        (home,) = first["data"]["gateways"]
        assert home["id"] == "home" and home["online"] is True
        assert home["grid_status"] == "UP"
        power = first["data"]["power"]
        assert power["load"] == pytest.approx(
            power["site"] + power["battery"] + power["solar"], abs=1
        )
        fault_id = sim.set_fault("home", Fault("grid_outage"))
        try:
            update = next_matching(ws, lambda m: m["data"]["gateways"][0]["grid_status"] != "UP")
        finally:
            sim.clear_faults("home", fault_id)
        assert update["type"] == "update" and update["seq"] > first["seq"]
        assert update["snapshot_ts"] > first["snapshot_ts"]


def test_gateway_stream_matches_the_http_api(client: TestClient) -> None:
    with client.websocket_connect("/ws/gateway/home") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["gateway"] == "home"
        data = first["data"]
        assert data["gateway"]["id"] == "home" and data["gateway"]["data"] is not None
        assert isinstance(data["vitals"], dict) and data["vitals"]
        update = next_matching(ws, lambda m: m["snapshot_ts"] > first["snapshot_ts"])
        assert update["data"]["gateway"]["last_updated"] == update["snapshot_ts"]
