"""Battery dispatch end to end: the server (real pypowerwall, signed /tedapi/v1r over HTTPS)
dispatches the simulated battery, the battery meter of /api/meters/aggregates follows, the
dispatch ends by itself (server state on the server's clock, the site on its own clock the
test moves) and a resume ends it early. Every other transport is refused with a 409 naming
v1r before anything is sent, bad values are 400, and every attempt is in the audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import ManualClock, admin
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SECRET = "d1spatch-s3cret-for-tests"
BEARER = {"Authorization": f"Bearer {SECRET}"}
NOON = 1782070200.0
# Backup mode: on grid the battery never discharges by itself, so a discharge is plain.
LAN = replace(
    SiteConfig.for_index(0),
    gateway_id="lan",
    powerwalls=1,
    powerwall_kind="powerwall3",
    sim_start=NOON,
    initial_soe_raw_percent=60.0,
    operating_mode="backup",
)
WIFI = replace(SiteConfig.for_index(1), gateway_id="wifi", sim_start=NOON)
CLOCK = ManualClock()


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=CLOCK)

    with running_simulator([LAN, WIFI], app_factory=factory) as running:
        key = public_pem(rsa_key("owner")).decode()
        admin(running, "POST", "/gateways/lan/v1r/keys", {"public_key": key})
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("dispatch")
    for login in (".pypowerwall.auth", ".pypowerwall.fleetapi"):  # never used: refused first
        (folder / login).write_text("{}")
    key_file = write_private_key(rsa_key("owner"), folder / "key.pem")
    lan, wifi = sim.gateway("lan"), sim.gateway("wifi")
    tedapi = {"host": wifi.host, "gw_pwd": SecretStr(wifi.config.gw_pwd), "poll_interval": 60.0}
    remote = {"authpath": str(folder), "siteid": WIFI.energy_site_id}
    gateways = (
        GatewayConfig(
            id="lan",
            host=lan.host,
            password=SecretStr(lan.config.customer_password),
            rsa_key_path=str(key_file),
            poll_interval=2.0,
        ),
        GatewayConfig(id="wifi", **tedapi),  # type: ignore[arg-type]
        GatewayConfig(
            id="local",
            host=wifi.host,
            password=SecretStr(wifi.config.customer_password),
            poll_interval=60.0,
        ),
        GatewayConfig(
            id="cloud",
            control_transport="cloud",
            email="owner@example.com",
            **tedapi,  # type: ignore[arg-type]
            **remote,  # type: ignore[arg-type]
        ),
        GatewayConfig(id="fleet", control_transport="fleetapi", **tedapi, **remote),  # type: ignore[arg-type]
    )
    server = ServerConfig(bind_address="127.0.0.1", control_secret=SecretStr(SECRET))
    with TestClient(create_app(Settings(server=server, gateways=gateways))) as test_client:
        wait_until(lambda: _battery_w(test_client) is not None, timeout=20)
        wait_until(lambda: _limits_known(test_client), timeout=20)
        yield test_client


def _battery_w(client: TestClient) -> float | None:
    answer = client.get("/gw/lan/api/meters/aggregates")
    if answer.status_code != 200:
        return None
    return float(answer.json()["battery"]["instant_power"])


def _limits_known(client: TestClient) -> bool:
    return client.get("/gw/lan/api/system_status").json().get("max_discharge_power") is not None


def _dispatch(client: TestClient, power_w: int, duration_s: int) -> dict[str, object]:
    answer = client.post(
        "/gw/lan/control/dispatch",
        json={"power_w": power_w, "duration_s": duration_s},
        headers=BEARER,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _audit(client: TestClient) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = client.get(
        "/api/control/audit?limit=200", headers=BEARER
    ).json()["entries"]
    return entries


def test_a_discharge_shows_in_the_aggregates_and_ends_by_itself(
    client: TestClient, sim: RunningSimulator
) -> None:
    assert (_battery_w(client) or 0.0) <= 0  # backup mode: charging or idle
    body = _dispatch(client, 3000, 3)  # the server's own clock ends it: keep it short
    part = body["parts"]["dispatch"]  # type: ignore[index]
    assert part["status"] == "applied" and part["read_back"] == pytest.approx(3000, abs=150)
    # The write's refresh is a poll: the legacy aggregates show the dispatch already.
    assert _battery_w(client) == pytest.approx(3000, abs=150)
    assert client.get("/api/meters/aggregates").json()["battery"]["instant_power"] > 2800
    state = client.get("/gw/lan/control/dispatch").json()["dispatch"]
    assert state["active"] is True and state["power_w"] == 3000 and state["ends_at"]
    assert client.get("/api/gateways/lan/control").json()["dispatch"]["active"] is True
    wait_until(lambda: not client.get("/gw/lan/control/dispatch").json()["dispatch"]["active"])
    assert sim.gateway("lan").app.state().battery.instant_power_w > 2800
    CLOCK.advance(3)  # the site's clock: its dispatch is over too, with no resume sent
    assert sim.gateway("lan").app.state().battery.instant_power_w <= 0
    wait_until(lambda: (_battery_w(client) or 0.0) <= 0, timeout=15)  # the next polls


def test_resume_ends_a_dispatch_early(client: TestClient) -> None:
    _dispatch(client, 3000, 60)
    assert _battery_w(client) == pytest.approx(3000, abs=150)
    answer = client.post("/control/resume", json={}, headers=BEARER)  # the default gateway
    assert answer.status_code == 200 and answer.json()["status"] == "applied", answer.text
    assert (_battery_w(client) or 0.0) <= 0
    assert client.get("/control/dispatch").json()["dispatch"]["active"] is False


@pytest.mark.parametrize(
    ("gateway", "said"),
    [
        ("wifi", "read over tedapi and is read-only"),
        ("local", "read over local and is read-only"),
        ("cloud", "writes through the Tesla cloud"),
        ("fleet", "writes through FleetAPI"),
    ],
)
def test_every_other_transport_is_refused_naming_v1r(
    client: TestClient, sim: RunningSimulator, gateway: str, said: str
) -> None:
    before = sim.request_counts("wifi").get("/tedapi/v1r", 0)
    for path in (f"/gw/{gateway}/control/dispatch", f"/api/gateways/{gateway}/control/resume"):
        answer = client.post(path, json={"power_w": 1000, "duration_s": 60}, headers=BEARER)
        assert answer.status_code == 409, answer.text
        assert (
            "needs the v1r transport" in answer.json()["error"] and said in answer.json()["error"]
        )
    assert sim.request_counts("wifi").get("/tedapi/v1r", 0) == before
    assert _audit(client)[0]["result"] == "refused: not on this transport"


@pytest.mark.parametrize(
    "body",
    [
        {"power_w": 3000},
        {"power_w": 3000, "duration_s": 0},
        {"power_w": 3000, "duration_s": 86401},
        {"power_w": "lots", "duration_s": 60},
        {"power_w": 10_000_000, "duration_s": 60},
        {"power_w": 999_999, "duration_s": 60},  # beyond the site's limit
    ],
)
def test_bad_values_are_400_and_audited(
    client: TestClient, sim: RunningSimulator, body: dict[str, object]
) -> None:
    before = sim.request_counts("lan").get("/tedapi/v1r", 0)
    answer = client.post("/gw/lan/control/dispatch", json=body, headers=BEARER)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert sim.request_counts("lan").get("/tedapi/v1r", 0) == before
    assert _audit(client)[0]["what"] == "dispatch"
    assert _audit(client)[0]["result"].startswith("refused")


def test_without_the_token_nothing_is_sent(client: TestClient) -> None:
    answer = client.post("/gw/lan/control/dispatch", json={"power_w": 3000, "duration_s": 60})
    assert answer.status_code == 401
    assert _audit(client)[0]["result"] == "refused: invalid token"
    assert client.get("/gw/lan/control/dispatch").json()["dispatch"]["active"] is False
