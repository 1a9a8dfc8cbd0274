"""Control end to end over FleetAPI: the server's real pypowerwall (fleetapi mode, its config
file's AUDIENCE the simulated Fleet API, trusted through the CA variables) writes two sites
through one account; each write goes to its own site, the read-back agrees with the
simulator, and a reserve over the cloud's 80 % cap is sent and answered with what the
gateway holds and a note saying so."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import ManualClock, settings, written
from tests.waiting import wait_until

from .test_sim_fleetapi import no_internet, trusted  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_internet")]

SECRET = "fleet-c0ntrol-s3cret"
BEARER = {"Authorization": f"Bearer {SECRET}"}
NOON = 1782070200.0
HOME = replace(
    SiteConfig.for_index(0), gateway_id="home", sim_start=NOON, initial_soe_raw_percent=50.0
)
CABIN = replace(SiteConfig.for_index(1), gateway_id="cabin", sim_start=NOON)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    clock = ManualClock()

    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([HOME, CABIN], app_factory=factory, fleet_api=True) as running:
        yield running


@pytest.fixture
def client(sim: RunningSimulator, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    tmp_path: Path = request.getfixturevalue("trusted")  # the simulator's CA trusted
    configs = []
    for site in (HOME, CABIN):
        authpath = tmp_path / site.gateway_id
        authpath.mkdir()
        sim.write_fleetapi_config(site.gateway_id, authpath)
        configs.append(
            GatewayConfig(
                id=site.gateway_id,
                fleetapi=True,
                authpath=str(authpath),
                siteid=site.energy_site_id,
                poll_interval=60.0,
            )
        )
    server = ServerConfig(bind_address="127.0.0.1", control_secret=SecretStr(SECRET))
    app = create_app(Settings(server=server, gateways=tuple(configs)))
    with TestClient(app) as test_client:
        for site in (HOME, CABIN):
            wait_until(lambda g=site.gateway_id: _known(test_client, g), timeout=20)
        yield test_client


def _known(client: TestClient, gateway_id: str) -> bool:
    return client.get(f"/api/gateways/{gateway_id}/control").json()["reserve"] is not None


def _writes_sent(sim: RunningSimulator) -> int:
    return sum(n for path, n in sim.fleet_api_request_counts().items() if "live_status" not in path)


def test_writes_over_fleetapi_land_in_their_own_site(
    client: TestClient, sim: RunningSimulator
) -> None:
    cabin_before = written(sim, "cabin")
    for reserve in (20, 80):
        answer = client.post("/gw/home/control/reserve", json={"value": reserve}, headers=BEARER)
        assert answer.status_code == 200, answer.text
        assert answer.json()["parts"]["reserve"]["read_back"] == pytest.approx(reserve, abs=0.5)
        assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(reserve, abs=0.5)
    assert sim.gateway("home").app.state().battery.instant_power_w < 0  # 80 > 50: charging

    answer = client.post("/gw/home/control/mode", json={"value": "backup"}, headers=BEARER)
    assert answer.json()["parts"]["mode"]["read_back"] == "backup"
    assert settings(sim, "home")["operating_mode"] == "backup"
    answer = client.post("/gw/home/control/grid_charging", json={"value": True}, headers=BEARER)
    assert answer.json()["parts"]["grid_charging"]["read_back"] is True
    assert settings(sim, "home")["grid_charging"] is True
    answer = client.post("/gw/home/control/grid_export", json={"value": "never"}, headers=BEARER)
    assert answer.json()["parts"]["grid_export"]["read_back"] == "never"
    assert settings(sim, "home")["export_rule"] == "never"
    answer = client.post("/gw/home/control/reserve_hold", json={}, headers=BEARER)
    assert answer.status_code == 200 and answer.json()["status"] == "applied"
    soe = client.get("/api/gateways/home/control").json()["state_of_energy_percent"]
    assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(round(soe), abs=0.5)

    refused = client.post("/gw/home/control/max_backup", json={"value": 600}, headers=BEARER)
    assert refused.status_code == 409 and "v1r" in refused.json()["error"]

    assert written(sim, "cabin") == cabin_before
    answer = client.post("/gw/cabin/control/grid_export", json={"value": "pv_only"}, headers=BEARER)
    assert answer.status_code == 200
    assert settings(sim, "cabin")["export_rule"] == "pv_only"
    assert settings(sim, "home")["export_rule"] == "never"


def test_fleetapi_reserve_above_80_is_sent_and_answered_capped(
    client: TestClient, sim: RunningSimulator
) -> None:
    """evcc's charge mode writes exactly 100: sent, read back, answered 200 with the value
    the gateway holds and a note; never a 400, never a silent success."""
    sent = _writes_sent(sim)
    answer = client.post("/gw/home/control/reserve", json={"value": 100}, headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert _writes_sent(sim) > sent  # sent, as pypowerwall does
    body = answer.json()
    assert body["status"] == "capped"
    assert body["parts"]["reserve"]["requested"] == 100
    assert body["parts"]["reserve"]["read_back"] == 80
    assert "caps the backup reserve at 80 %" in body["note"]
    assert "holds 80 %" in body["note"]
    assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(80, abs=0.5)
