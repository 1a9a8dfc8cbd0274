"""A gateway read over TEDAPI writes through another transport, end to
end with the real pypowerwall: `control_transport: fleetapi` gives a TEDAPI gateway a
FleetAPI writer of its own (the simulator's Fleet API, trusted through the CA variables);
with `transports: [tedapi, fleetapi]` a write goes through FleetAPI while TEDAPI reads. The
read-back comes over TEDAPI after the slow-tier refresh and agrees with the simulator; the
other sites never change; a TEDAPI-only gateway answers 409 naming what to configure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import ManualClock, admin, settings, written
from tests.waiting import wait_until

from .test_sim_fleetapi import no_internet, trusted  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_internet")]

SECRET = "writer-c0ntrol-s3cret"
BEARER = {"Authorization": f"Bearer {SECRET}"}
NOON = 1782070200.0
HOME = replace(
    SiteConfig.for_index(0), gateway_id="home", sim_start=NOON, initial_soe_raw_percent=50.0
)
CABIN = replace(SiteConfig.for_index(1), gateway_id="cabin", sim_start=NOON)
SHED = replace(SiteConfig.for_index(2), gateway_id="shed", sim_start=NOON)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    clock = ManualClock()  # the sites stand still: read-backs compare exact settings

    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([HOME, CABIN, SHED], app_factory=factory, fleet_api=True) as running:
        yield running


def _tedapi(sim: RunningSimulator, site: SiteConfig, **more: Any) -> GatewayConfig:
    gw = sim.gateway(site.gateway_id)
    return GatewayConfig(
        id=site.gateway_id,
        host=gw.host,
        gw_pwd=SecretStr(gw.config.gw_pwd),
        poll_interval=60.0,  # only the writes' refreshes poll again during the test
        **more,
    )


@pytest.fixture
def client(sim: RunningSimulator, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    tmp_path: Path = request.getfixturevalue("trusted")  # the simulator's CA trusted
    folders = {}
    for site in (HOME, CABIN):
        folders[site.gateway_id] = tmp_path / site.gateway_id
        folders[site.gateway_id].mkdir()
        sim.write_fleetapi_config(site.gateway_id, folders[site.gateway_id])
    gateways = (
        _tedapi(
            sim,
            HOME,
            control_transport="fleetapi",
            authpath=str(folders["home"]),
            siteid=HOME.energy_site_id,
        ),
        _tedapi(
            sim,
            CABIN,
            transports=("tedapi", "fleetapi"),
            authpath=str(folders["cabin"]),
            siteid=CABIN.energy_site_id,
        ),
        _tedapi(sim, SHED),
    )
    server = ServerConfig(bind_address="127.0.0.1", control_secret=SecretStr(SECRET))
    with TestClient(create_app(Settings(server=server, gateways=gateways))) as test_client:
        for site in (HOME, CABIN, SHED):
            wait_until(lambda g=site.gateway_id: _known(test_client, g), timeout=20)
        yield test_client


def _known(client: TestClient, gateway_id: str) -> bool:
    return client.get(f"/api/gateways/{gateway_id}/control").json()["reserve"] is not None


def _fleet_writes(sim: RunningSimulator, site: SiteConfig) -> int:
    """POST routes of this site on the Fleet API (its reads are live_status, site_info)."""
    writes = ("/backup", "/operation", "/grid_import_export")
    return sum(
        n
        for path, n in sim.fleet_api_request_counts().items()
        if f"/{site.energy_site_id}/" in path and path.endswith(writes)
    )


def _reading_transport(client: TestClient, gateway_id: str) -> str:
    return str(client.get(f"/api/gateways/{gateway_id}").json()["data"]["transport"])


def test_a_tedapi_gateway_writes_through_its_fleetapi_writer(
    client: TestClient, sim: RunningSimulator
) -> None:
    overview = client.get("/api/control").json()["gateways"]
    assert overview["home"]["transport"] == "fleetapi"
    assert overview["cabin"]["transport"] == "fleetapi"
    assert overview["shed"] == {"transport": None, "controls": []}
    others = (written(sim, "cabin"), written(sim, "shed"))

    for reserve in (20, 70):
        answer = client.post("/gw/home/control/reserve", json={"value": reserve}, headers=BEARER)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "applied"  # read back over TEDAPI, not echoed
        assert body["parts"]["reserve"]["read_back"] == pytest.approx(reserve, abs=0.5)
        assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(reserve, abs=0.5)
        current = client.get("/api/gateways/home/control").json()["reserve"]
        assert current == pytest.approx(reserve, abs=0.5)
    assert _fleet_writes(sim, HOME) == 2  # it went through the Fleet API
    assert "/tedapi/v1r" not in sim.request_counts("home")
    assert _reading_transport(client, "home") == "tedapi"  # TEDAPI still reads

    answer = client.post("/gw/home/control/grid_export", json={"value": "never"}, headers=BEARER)
    assert answer.json()["parts"]["grid_export"]["read_back"] == "never"
    assert settings(sim, "home")["export_rule"] == "never"

    capped = client.post("/gw/home/control/reserve", json={"value": 100}, headers=BEARER)
    # sent through the Fleet API, which holds at most 80 %: answered as capped, not refused
    assert capped.status_code == 200 and capped.json()["status"] == "capped", capped.text
    assert capped.json()["parts"]["reserve"]["read_back"] == 80
    assert _fleet_writes(sim, HOME) == 4
    assert (written(sim, "cabin"), written(sim, "shed")) == others  # its own site only


def test_with_tedapi_then_fleetapi_a_write_goes_through_fleetapi_while_tedapi_reads(
    client: TestClient, sim: RunningSimulator
) -> None:
    assert _reading_transport(client, "cabin") == "tedapi"
    home = written(sim, "home")
    answer = client.post("/gw/cabin/control/mode", json={"value": "backup"}, headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "applied"
    assert answer.json()["parts"]["mode"]["read_back"] == "backup"
    assert settings(sim, "cabin")["operating_mode"] == "backup"
    assert _fleet_writes(sim, CABIN) == 1
    assert _reading_transport(client, "cabin") == "tedapi"  # no failover for a write
    assert written(sim, "home") == home

    refused = client.post("/gw/shed/control/reserve", json={"value": 30}, headers=BEARER)
    assert refused.status_code == 409
    assert "read over tedapi" in refused.json()["error"]
    assert "control_transport" in refused.json()["error"]


def test_a_write_the_gateway_applies_late_answers_pending_then_shows_applied(
    client: TestClient, sim: RunningSimulator
) -> None:
    before = client.get("/api/gateways/home/control").json()["reserve"]
    admin(sim, "POST", "/gateways/home/faults", {"kind": "slow_apply", "delay_s": 1.0})
    answer = client.post("/gw/home/control/reserve", json={"value": 45}, headers=BEARER)
    assert answer.status_code == 200, answer.text
    part = answer.json()["parts"]["reserve"]
    assert answer.json()["status"] == "pending" and part["status"] == "pending"
    assert part["read_back"] == pytest.approx(before, abs=0.5)  # what the gateway shows
    assert part["requested"] == 45
    audit = client.get("/api/control/audit?limit=1", headers=BEARER).json()["entries"]
    assert audit[0]["result"] == "pending"

    # the follow-up refresh (control/follow_up.py) reads it back once the gateway applied it
    wait_until(lambda: _reserve(client) == pytest.approx(45, abs=0.5), timeout=10)
    assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(45, abs=0.5)
    assert client.get("/control/reserve").json() == {"reserve": pytest.approx(45, abs=0.5)}


def _reserve(client: TestClient) -> object:
    return client.get("/api/gateways/home/control").json()["reserve"]
