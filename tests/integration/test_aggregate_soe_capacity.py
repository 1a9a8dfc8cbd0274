"""The aggregate state of energy end to end: a local-mode simulated gateway whose /api/system_status
reports no capacity (state of energy and battery power are there) is counted in the
aggregate state of energy, with its capacity from site info, through real pypowerwall."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import running_simulator

from .conftest import NOON_LOS_ANGELES, frozen_gateway, healthy_client

pytestmark = pytest.mark.integration  # starts a server and the simulator

SITES = (
    SiteConfig(gateway_id="full", seed=1, sim_start=NOON_LOS_ANGELES),
    replace(
        SiteConfig.for_index(1, seed=2),
        gateway_id="nocap",
        powerwalls=2,
        initial_soe_raw_percent=24.0,
        sim_start=NOON_LOS_ANGELES,
        system_status_capacity=False,
    ),
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with running_simulator(SITES, app_factory=frozen_gateway) as sim:
        gateways = tuple(
            GatewayConfig(
                id=gw.id,
                host=gw.host,
                password=SecretStr(gw.config.customer_password),
                email=gw.config.customer_email,
                poll_interval=1.0,
            )
            for gw in sim.gateways
        )
        with healthy_client(gateways) as test_client:
            yield test_client


def test_aggregate_soe_keeps_batteries_it_can_see(client: TestClient) -> None:
    status = client.get("/gw/nocap/api/system_status").json()
    assert "nominal_full_pack_energy" not in status  # the situation of the issue
    soe = client.get("/gw/nocap/soe").json()["percentage"]

    alone = client.get("/api/gateways/nocap").json()["data"]["soe"]
    assert alone["capacity_source"] == "site_info"
    site_kwh = client.get("/gw/nocap/api/site_info").json()["nominal_system_energy_kWh"]
    assert alone["capacity_wh"] == pytest.approx(site_kwh * 1000)
    assert alone["energy_remaining_wh"] == pytest.approx(site_kwh * 1000 * soe / 100)

    total = client.get("/api/aggregate/soe")
    assert total.status_code == 200, total.text
    body = total.json()
    assert body["complete"] is True
    entries = {g["id"]: g for g in body["gateways"]}
    assert entries["nocap"]["has_battery"] is True and entries["nocap"]["counted"] is True
    assert entries["nocap"]["capacity_source"] == "site_info"
    assert entries["nocap"]["percent_raw"] == pytest.approx(soe)
    assert entries["full"]["capacity_source"] == "system_status"
    capacities = [entries[g]["capacity_wh"] for g in ("full", "nocap")]
    assert body["total_capacity_wh"] == pytest.approx(sum(capacities))
