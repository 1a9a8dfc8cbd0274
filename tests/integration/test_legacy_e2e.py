"""Every legacy endpoint, per gateway under /gw/{id}/, on the simulator with the real
pypowerwall: the server's answer equals the legacy transform of what pypowerwall reads
directly from the same (frozen) simulator state, for TEDAPI and local mode, a 1-Powerwall,
a 3-Powerwall and a Powerwall 3 site with an expansion pack (1 Powerwall in both modes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.gateway.call_names import invoke, parse_call
from pypowerwall_server.gateway.schedule import poll_plan
from pypowerwall_server.legacy import Unavailable, render_legacy
from pypowerwall_server.models import GatewayAttributes, LegacyOptions
from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.fixtures import LEGACY_CONTRACT

from .conftest import NOON_LOS_ANGELES, direct_powerwall, frozen_gateway, healthy_client

pytestmark = pytest.mark.integration  # starts a server or the simulator

CONTRACT = LEGACY_CONTRACT
SKIPPED = ("/stats", "/health", "/stats/clear", "/health/reset", "/control/")
TIMESTAMPED = ("/vitals", "/pw/vitals")  # VITALS.timestamp is the time of the library call

SITES = (
    replace(SiteConfig.for_index(0, seed=11), gateway_id="one", powerwalls=1),
    replace(SiteConfig.for_index(3, seed=14), gateway_id="onelocal", powerwalls=1),
    replace(SiteConfig.for_index(1, seed=12), gateway_id="three", powerwalls=3),
    replace(
        SiteConfig.for_index(2, seed=13),
        gateway_id="pw3",
        powerwall_kind="powerwall3",
        powerwalls=3,
        expansion_packs=1,
    ),
)
MODES = {"one": "tedapi", "onelocal": "local", "three": "local", "pw3": "tedapi"}


def legacy_urls() -> list[str]:
    responses = json.loads((CONTRACT / "tedapi" / "responses.json").read_text())
    return [u for u in responses if not u.startswith("_") and not u.startswith(SKIPPED)]


def credentials(gid: str, sim: RunningSimulator) -> dict[str, Any]:
    gw = next(g for g in sim.gateways if g.id == gid)
    if MODES[gid] == "tedapi":
        return {"gw_pwd": gw.config.gw_pwd}
    return {"password": gw.config.customer_password, "email": gw.config.customer_email}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    sites = [replace(s, sim_start=NOON_LOS_ANGELES) for s in SITES]
    with running_simulator(sites, app_factory=frozen_gateway, admin=False) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[TestClient]:
    gateways = tuple(
        GatewayConfig(
            id=gw.id,
            host=gw.host,
            poll_interval=1.0,
            **{k: SecretStr(v) if k != "email" else v for k, v in credentials(gw.id, sim).items()},
        )
        for gw in sim.gateways
    )
    with healthy_client(gateways) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def direct(sim: RunningSimulator, tmp_path_factory) -> dict[str, tuple[dict[str, Any], Any]]:
    """What pypowerwall reads directly, for exactly the calls the server's poller makes."""
    plan = poll_plan()
    result = {}
    for gw in sim.gateways:
        pw = direct_powerwall(
            gw.host, cachefile=str(tmp_path_factory.mktemp(gw.id) / "c"), **credentials(gw.id, sim)
        )
        calls = {}
        for name in (*plan.fast_calls, *plan.slow_calls):
            try:
                calls[name] = invoke(pw, parse_call(name))
            except Exception:
                calls[name] = None
        tedapi = pw.tedapi or None
        attributes = GatewayAttributes(
            MODES[gw.id],
            bool(tedapi),
            bool(getattr(tedapi, "pw3", False)),
            False,
            False,
            pw.tedapi_mode,
            "V2024_06",
            "0.22.2",
        )
        result[gw.id] = (calls, attributes)
    return result


def comparable(url: str, body: bytes) -> Any:
    if url in TIMESTAMPED:
        data = json.loads(body)
        if isinstance(data, dict):  # null where the gateway never provides vitals
            data.get("VITALS", {}).pop("timestamp", None)
        return data
    return body


@pytest.mark.parametrize("gid", ["one", "onelocal", "three", "pw3"])
def test_every_legacy_endpoint_matches_pypowerwall(client, direct, gid: str) -> None:
    calls, attributes = direct[gid]
    served_ok = 0
    for url in legacy_urls():
        expected = render_legacy(url, calls, attributes, LegacyOptions())
        response = client.get(f"/gw/{gid}{url}")
        if expected is None:
            assert response.status_code == 404, url
            assert "error" in response.json()
        elif isinstance(expected, Unavailable):
            assert response.status_code == 503, (url, response.text)
            assert response.headers["retry-after"]
        else:
            assert response.status_code == expected.status, url
            assert response.headers["content-type"].startswith(expected.content_type), url
            assert comparable(url, response.content) == comparable(url, expected.body), url
            reason = dict(expected.headers).get("x-data-unavailable")
            assert response.headers.get("x-data-unavailable") == reason, url
            served_ok += response.status_code == 200
    assert served_ok >= 70


@pytest.mark.parametrize("gid", ["one", "onelocal", "three", "pw3"])
@pytest.mark.parametrize(
    "path",
    [
        "/aggregates",
        "/soe",
        "/csv/v2?headers",
        "/freq",
        "/pod",
        "/json",
        "/strings",
        "/version",
        "/api/system_status/soe",
        "/alerts/pw",
    ],
)
def test_telegraf_endpoints_serve_data(client, gid: str, path: str) -> None:
    response = client.get(f"/gw/{gid}{path}")
    assert response.status_code == 200, response.text
    if not path.startswith("/csv"):
        assert response.json()


def test_vitals_family_on_tedapi_gateways(client) -> None:
    for gid in ("one", "pw3"):
        for path in ("/vitals", "/temps/pw", "/fans/pw"):
            assert client.get(f"/gw/{gid}{path}").status_code == 200, (gid, path)


def test_not_available_is_not_not_yet(client) -> None:
    """Not available is not "not yet": a local-mode gateway on firmware >= 23.44 never has vitals,
    so its vitals routes answer the proxy's empty body with the reason, not 503 for ever."""
    for path, body in (("/vitals", b"null"), ("/temps", b"{}"), ("/temps/pw", b"{}")):
        response = client.get(f"/gw/three{path}")
        assert response.status_code == 200, (path, response.text)
        assert response.content == body, path
        assert "firmware 23.44" in response.headers["x-data-unavailable"], path
        assert "retry-after" not in response.headers
    # a TEDAPI gateway serves its vitals with no such header, but pypowerwall's TEDAPI mode
    # never provides /api/meters/solar: the proxy's `null`, with the reason
    assert "x-data-unavailable" not in client.get("/gw/one/vitals").headers
    solar = client.get("/gw/one/api/meters/solar")
    assert (solar.status_code, solar.content) == (200, b"null")
    assert solar.headers["x-data-unavailable"] == "TEDAPI mode does not provide /api/meters/solar"
