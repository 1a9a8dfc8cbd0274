"""The simulated Fleet API driven directly: bearer tokens, which sites a token sees, reads
from the site model, writes applied to the right site only, bad input refused."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.fleet_api import FleetSite, SimulatedFleetApi, fleetapi_config
from pypowerwall_server.simulator.fleet_api_views import app_percent, raw_percent
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.interface import SimRequest, SimResponse

NOON = 1782070200.0
CONFIGS = [replace(SiteConfig.for_index(i), sim_start=NOON) for i in range(2)]
TOKEN = "test-access-token"


@pytest.fixture
def gateways() -> list[SimulatedGateway]:
    return [SimulatedGateway(c, clock=lambda: 0.0) for c in CONFIGS]


@pytest.fixture
def cloud(gateways: list[SimulatedGateway]) -> SimulatedFleetApi:
    sites = [FleetSite(c, g) for c, g in zip(CONFIGS, gateways, strict=True)]
    return SimulatedFleetApi(sites, TOKEN)


def call(
    cloud: SimulatedFleetApi,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = TOKEN,
) -> SimResponse:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return cloud.handle(SimRequest(method, path, "", headers, raw))


def site_path(index: int, what: str) -> str:
    return f"/api/1/energy_sites/{CONFIGS[index].energy_site_id}/{what}"


def ok(answer: SimResponse) -> Any:
    assert answer.status == 200, answer.body
    return json.loads(answer.body)["response"]


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_without_the_token_every_route_is_401(cloud: SimulatedFleetApi, token: str | None) -> None:
    for path in ("/api/1/products", site_path(0, "live_status")):
        answer = call(cloud, "GET", path, token=token)
        assert answer.status == 401
        assert json.loads(answer.body)["error"] == "invalid_token"


def test_products_lists_the_sites_a_token_owns(cloud: SimulatedFleetApi) -> None:
    ids = [p["energy_site_id"] for p in ok(call(cloud, "GET", "/api/1/products"))]
    assert ids == [c.energy_site_id for c in CONFIGS]
    only_second = cloud.add_token("second", [CONFIGS[1].energy_site_id])
    ids = [
        p["energy_site_id"] for p in ok(call(cloud, "GET", "/api/1/products", token=only_second))
    ]
    assert ids == [CONFIGS[1].energy_site_id]
    assert call(cloud, "GET", site_path(0, "site_info"), token=only_second).status == 404
    assert cloud.revoke_token(only_second)
    assert call(cloud, "GET", "/api/1/products", token=only_second).status == 401


def test_reads_come_from_the_site_model(
    cloud: SimulatedFleetApi, gateways: list[SimulatedGateway]
) -> None:
    state = gateways[0].state()
    live = ok(call(cloud, "GET", site_path(0, "live_status")))
    assert live["solar_power"] == state.solar.instant_power_w
    assert live["battery_power"] == state.battery.instant_power_w
    assert live["grid_power"] == state.site.instant_power_w
    assert live["load_power"] == state.load.instant_power_w
    assert live["percentage_charged"] == pytest.approx(app_percent(state.soe_raw_percent))
    assert (live["grid_status"], live["island_status"]) == ("Active", "on_grid")
    info = ok(call(cloud, "GET", site_path(0, "site_info")))
    assert info["id"] == state.gateway_din and info["site_name"] == state.site_name
    assert info["backup_reserve_percent"] == pytest.approx(20.0)  # raw 24 on the gateway
    assert info["components"]["disallow_charge_from_grid_with_solar_installed"] is True
    status = ok(call(cloud, "GET", site_path(0, "site_status")))
    assert status["total_pack_energy"] == pytest.approx(state.nominal_full_pack_energy_wh, 0.1)
    remaining = ok(call(cloud, "GET", site_path(0, "backup_time_remaining")))
    assert remaining["time_remaining_hours"] > 0


def test_writes_change_only_their_site(
    cloud: SimulatedFleetApi, gateways: list[SimulatedGateway]
) -> None:
    untouched = gateways[1].state()
    updated = {"code": 201, "message": "Updated"}
    assert (
        ok(call(cloud, "POST", site_path(0, "backup"), {"backup_reserve_percent": 80})) == updated
    )
    ok(call(cloud, "POST", site_path(0, "operation"), {"default_real_mode": "backup"}))
    ok(
        call(
            cloud,
            "POST",
            site_path(0, "grid_import_export"),
            {
                "disallow_charge_from_grid_with_solar_installed": False,
                "customer_preferred_export_rule": "never",
            },
        )
    )
    state = gateways[0].state()
    assert state.backup_reserve_raw_percent == pytest.approx(raw_percent(80))
    assert (state.operating_mode, state.grid_charging, state.export_rule) == (
        "backup",
        True,
        "never",
    )
    info = ok(call(cloud, "GET", site_path(0, "site_info")))
    assert info["backup_reserve_percent"] == pytest.approx(80.0)
    assert info["components"]["non_export_configured"] is True
    assert "disallow_charge_from_grid_with_solar_installed" not in info["components"]
    other = gateways[1].state()
    assert (other.backup_reserve_raw_percent, other.operating_mode, other.export_rule) == (
        untouched.backup_reserve_raw_percent,
        untouched.operating_mode,
        untouched.export_rule,
    )


@pytest.mark.parametrize(
    ("what", "body", "status"),
    [
        ("backup", {"backup_reserve_percent": 101}, 400),
        ("backup", {"backup_reserve_percent": -1}, 400),
        ("backup", {"backup_reserve_percent": "abc"}, 400),
        ("backup", {"backup_reserve_percent": True}, 400),
        ("operation", {"default_real_mode": "turbo"}, 400),
        ("grid_import_export", {"customer_preferred_export_rule": "sometimes"}, 400),
        ("grid_import_export", {}, 400),
        ("backup", b"not json", 400),
        ("backup", b"x" * 5000, 413),
    ],
)
def test_bad_writes_are_refused_and_change_nothing(
    cloud: SimulatedFleetApi,
    gateways: list[SimulatedGateway],
    what: str,
    body: Any,
    status: int,
) -> None:
    before = gateways[0].state()
    answer = call(cloud, "POST", site_path(0, what), body)
    assert answer.status == status
    assert json.loads(answer.body)["error_description"]
    after = gateways[0].state()
    assert (after.backup_reserve_raw_percent, after.operating_mode, after.export_rule) == (
        before.backup_reserve_raw_percent,
        before.operating_mode,
        before.export_rule,
    )


def test_wrong_methods_and_unknown_routes(cloud: SimulatedFleetApi) -> None:
    assert call(cloud, "POST", site_path(0, "live_status"), {}).status == 405
    assert call(cloud, "GET", site_path(0, "backup")).status == 405
    assert call(cloud, "GET", site_path(0, "storm")).status == 404
    assert call(cloud, "GET", "/api/1/energy_sites/42/live_status").status == 404


def test_off_grid_shows_in_live_status(
    cloud: SimulatedFleetApi, gateways: list[SimulatedGateway]
) -> None:
    gateways[0].set_grid_up(False)
    live = ok(call(cloud, "GET", site_path(0, "live_status")))
    assert (live["grid_status"], live["island_status"], live["grid_power"]) == (
        "Inactive",
        "off_grid_intentional",
        0.0,
    )


def test_config_file_points_pypowerwall_at_the_simulator() -> None:
    config = fleetapi_config("https://127.0.0.1:9999", TOKEN, 123)
    assert (config["AUDIENCE"], config["access_token"], config["site_id"]) == (
        "https://127.0.0.1:9999",
        TOKEN,
        123,
    )


def test_site_ids_are_distinct_and_stable() -> None:
    ids = {SiteConfig.for_index(i, seed=2).energy_site_id for i in range(200)}
    assert len(ids) == 200
    assert all(10**12 <= i < 10**13 for i in ids)
    assert SiteConfig.for_index(5).energy_site_id == SiteConfig.for_index(5).energy_site_id
