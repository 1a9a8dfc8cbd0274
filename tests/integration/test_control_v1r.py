"""Control end to end over v1r: the server (real pypowerwall, RSA-signed /tedapi/v1r over
HTTPS) writes to the simulator through its control routes. Each write's read-back agrees
with the simulator's own settings (admin API), the battery follows, the other site never
changes; the legacy form protocol and evcc's exact requests get what those clients expect;
bad requests send nothing to the gateway; the token is guarded."""

from __future__ import annotations

import time
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
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import ManualClock, admin, settings, written
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SECRET = "c0ntrol-s3cret-for-tests"
BEARER = {"Authorization": f"Bearer {SECRET}"}
NOON = 1782070200.0  # the sun is up
PW3 = dict(powerwalls=1, powerwall_kind="powerwall3", sim_start=NOON, initial_soe_raw_percent=50.0)
LAN = replace(SiteConfig.for_index(0), gateway_id="lan", **PW3)  # type: ignore[arg-type]
OTHER = replace(SiteConfig.for_index(1), gateway_id="other", **PW3)  # type: ignore[arg-type]
WIFI = replace(SiteConfig.for_index(2), gateway_id="wifi", sim_start=NOON)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    clock = ManualClock()  # the sites stand still unless a test moves them

    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([LAN, OTHER, WIFI], app_factory=factory) as running:
        key = public_pem(rsa_key("owner")).decode()
        for gateway_id in ("lan", "other"):
            admin(running, "POST", f"/gateways/{gateway_id}/v1r/keys", {"public_key": key})
        yield running


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_private_key(rsa_key("owner"), tmp_path_factory.mktemp("v1r") / "key.pem")


def gateways(sim: RunningSimulator, key_file: Path) -> tuple[GatewayConfig, ...]:
    def v1r(gateway_id: str) -> GatewayConfig:
        gw = sim.gateway(gateway_id)
        return GatewayConfig(
            id=gateway_id,
            host=gw.host,
            password=SecretStr(gw.config.customer_password),
            rsa_key_path=str(key_file),
            poll_interval=60.0,  # only the writes' refreshes poll again during a test
        )

    wifi = sim.gateway("wifi")
    read_only = GatewayConfig(
        id="wifi", host=wifi.host, gw_pwd=SecretStr(wifi.config.gw_pwd), poll_interval=60.0
    )
    return (v1r("lan"), v1r("other"), read_only)


def server(sim: RunningSimulator, key_file: Path, **control: Any) -> Settings:
    return Settings(
        server=ServerConfig(bind_address="127.0.0.1", **control), gateways=gateways(sim, key_file)
    )


@pytest.fixture(scope="module")
def client(sim: RunningSimulator, key_file: Path) -> Iterator[TestClient]:
    app = create_app(server(sim, key_file, control_secret=SecretStr(SECRET)))
    with TestClient(app) as test_client:
        for gateway_id in ("lan", "other", "wifi"):
            wait_until(lambda g=gateway_id: _polled(test_client, g), timeout=20)
        yield test_client


def _polled(client: TestClient, gateway_id: str) -> bool:
    state = client.get(f"/api/gateways/{gateway_id}/control").json()
    return state["reserve"] is not None and state["state_of_energy_percent"] is not None


def v1r_requests(sim: RunningSimulator, gateway_id: str) -> int:
    return sim.request_counts(gateway_id).get("/tedapi/v1r", 0)


def test_reserve_mode_charging_export_and_hold_read_back_what_the_site_holds(
    client: TestClient, sim: RunningSimulator
) -> None:
    other_before = written(sim, "other")
    for reserve in (20, 80, 100):
        answer = client.post("/gw/lan/control/reserve", json={"value": reserve}, headers=BEARER)
        assert answer.status_code == 200, answer.text
        part = answer.json()["parts"]["reserve"]
        assert (answer.json()["status"], part["status"]) == ("applied", "applied")
        assert part["read_back"] == pytest.approx(reserve, abs=0.5)
        assert settings(sim, "lan")["backup_reserve_percent"] == pytest.approx(reserve, abs=0.5)
        assert client.get("/gw/lan/control/reserve").json()["reserve"] == part["read_back"]
        if reserve == 80:  # above the charge (50 %): the battery charges now
            assert sim.gateway("lan").app.state().battery.instant_power_w < 0

    for mode in ("backup", "self_consumption"):
        answer = client.post("/gw/lan/control/mode", json={"value": mode}, headers=BEARER)
        assert answer.json()["parts"]["mode"]["read_back"] == mode
        assert settings(sim, "lan")["operating_mode"] == mode

    answer = client.post("/gw/lan/control/grid_charging", json={"value": True}, headers=BEARER)
    assert answer.json()["parts"]["grid_charging"] == pytest.approx(
        {"requested": True, "old": False, "read_back": True, "status": "applied", "detail": None}
    )
    assert settings(sim, "lan")["grid_charging"] is True
    assert client.get("/gw/lan/control/grid_charging").json() == {"grid_charging": True}

    answer = client.post("/gw/lan/control/grid_export", json={"value": "never"}, headers=BEARER)
    assert answer.json()["parts"]["grid_export"]["read_back"] == "never"
    assert settings(sim, "lan")["export_rule"] == "never"

    soe = client.get("/api/gateways/lan/control").json()["state_of_energy_percent"]
    answer = client.post("/gw/lan/control/reserve_hold", json={}, headers=BEARER)
    assert answer.status_code == 200 and answer.json()["status"] == "applied"
    held = settings(sim, "lan")["backup_reserve_percent"]
    assert held == pytest.approx(round(soe), abs=0.5)

    assert written(sim, "other") == other_before  # a write to one site never changes another


def test_the_combined_call_reports_each_part(client: TestClient, sim: RunningSimulator) -> None:
    body = {"reserve": 30, "mode": "self_consumption", "grid_export": "pv_only"}
    answer = client.post("/api/gateways/other/control", json=body, headers=BEARER)
    assert answer.status_code == 200, answer.text
    parts = answer.json()["parts"]
    assert {name: part["status"] for name, part in parts.items()} == {
        "reserve": "applied",
        "mode": "applied",
        "grid_export": "applied",
    }
    now = settings(sim, "other")
    assert now["backup_reserve_percent"] == pytest.approx(30, abs=0.5)
    assert now["export_rule"] == "pv_only"


def test_evcc_requests(client: TestClient, sim: RunningSimulator) -> None:
    """evcc's meter: JSON {"value": N} and reserve_hold {} with a Bearer token; its reads."""
    answer = client.post("/control/reserve", json={"value": 40}, headers=BEARER)
    assert answer.status_code == 200 and answer.json()["status"] == "applied"
    assert settings(sim, "lan")["backup_reserve_percent"] == pytest.approx(40, abs=0.5)
    assert client.get("/api/operation").json()["backup_reserve_percent"] == pytest.approx(
        settings(sim, "lan")["backup_reserve_raw_percent"], abs=0.5
    )
    status = client.get("/api/system_status").json()
    assert status["nominal_full_pack_energy"] > 0 and "max_apparent_power" in status
    answer = client.post("/control/reserve_hold", json={}, headers=BEARER)
    assert answer.status_code == 200 and answer.json()["status"] == "applied"


def test_legacy_form_protocol(client: TestClient, sim: RunningSimulator) -> None:
    form = "application/x-www-form-urlencoded"
    bad = client.post(
        "/control/reserve", content="value=20&token=bad", headers={"content-type": form}
    )
    assert (bad.status_code, bad.json()) == (401, {"unauthorized": "Control Command Token Invalid"})
    ok = client.post("/control/reserve", data={"value": "25", "token": SECRET})
    assert ok.status_code == 200 and ok.json()["parts"]["reserve"]["read_back"] == 25
    current = client.post("/control/reserve", data={"token": SECRET})
    assert current.status_code == 200 and current.json() == {"reserve": 25}
    both = client.post("/control/mode", data={"value": "backup", "level": "35", "token": SECRET})
    assert set(both.json()["parts"]) == {"reserve", "mode"}
    assert settings(sim, "lan")["operating_mode"] == "backup"
    client.post("/control/mode", data={"value": "self_consumption", "token": SECRET})
    bogus = client.post("/control/mode", data={"value": "bogus", "token": SECRET})
    assert bogus.status_code == 400 and bogus.json()["error"] == "Control Command Value Invalid"
    foo = client.post("/control/foo", data={"value": "1", "token": SECRET})
    assert foo.status_code == 400 and foo.json()["error"] == "Invalid Command Action"
    assert client.get("/control/mode").json() == {"mode": "self_consumption"}


@pytest.mark.parametrize(
    ("path", "request_args", "status"),
    [
        ("/control/reserve", {"json": {"value": 101}}, 400),
        ("/control/reserve", {"json": {"value": -1}}, 400),
        ("/control/reserve", {"json": {"value": "abc"}}, 400),
        ("/control/mode", {"json": {"value": "turbo"}}, 400),
        ("/control/grid_export", {"json": {"value": "sometimes"}}, 400),
        ("/control/reserve", {"json": {"value": 20, "pad": "x" * 5000}}, 413),
        (
            "/control/reserve",
            {"content": "value=20", "headers": {"content-type": "text/plain"}},
            415,
        ),
        (
            "/control/reserve",
            {"content": "[20]", "headers": {"content-type": "application/json"}},
            400,
        ),
    ],
)
def test_bad_requests_send_nothing(
    client: TestClient, sim: RunningSimulator, path: str, request_args: dict[str, Any], status: int
) -> None:
    before = (v1r_requests(sim, "lan"), written(sim, "lan"))
    headers = {**BEARER, **request_args.pop("headers", {})}
    answer = client.post(path, headers=headers, **request_args)
    assert answer.status_code == status
    assert isinstance(answer.json()["error"], str)
    assert (v1r_requests(sim, "lan"), written(sim, "lan")) == before


def test_over_v1r_max_backup_is_offered_and_a_read_only_gateway_says_what_to_configure(
    client: TestClient, sim: RunningSimulator
) -> None:
    overview = client.get("/api/control").json()
    assert overview["enabled"] is True
    assert overview["gateways"]["lan"]["transport"] == "v1r"
    assert "max_backup" in overview["gateways"]["lan"]["controls"]
    assert overview["gateways"]["wifi"] == {"transport": None, "controls": []}
    assert SECRET not in client.get("/api/control").text
    refused = client.post("/gw/wifi/control/reserve", json={"value": 30}, headers=BEARER)
    assert refused.status_code == 409
    assert "rsa_key_path" in refused.json()["error"]
    assert "/tedapi/v1r" not in sim.request_counts("wifi")


def test_token_in_the_query_is_refused(client: TestClient, sim: RunningSimulator) -> None:
    before = written(sim, "lan")
    answer = client.post(f"/control/reserve?token={SECRET}", json={"value": 60})
    assert answer.status_code == 400 and "URL" in answer.json()["error"]
    assert written(sim, "lan") == before


def test_audit_route_lists_writes_without_the_secret(client: TestClient) -> None:
    assert client.get("/api/control/audit").status_code == 401
    answer = client.get("/api/control/audit?limit=5", headers=BEARER)
    entries = answer.json()["entries"]
    assert 1 <= len(entries) <= 5
    assert {"time", "client", "gateway", "what", "old", "new", "result"} <= set(entries[0])
    assert SECRET not in answer.text


def test_ten_wrong_tokens_stop_that_clients_guesses_not_the_right_token(
    sim: RunningSimulator, key_file: Path
) -> None:
    """After 10 wrong tokens a client's further wrong ones are 429 and write nothing; the
    right token still writes, from that client and from its neighbour (nobody can lock the
    owner out)."""
    app = create_app(server(sim, key_file, control_secret=SecretStr(SECRET)))
    wrong = {"Authorization": "Bearer wrong"}
    with TestClient(app, client=("10.0.0.9", 4000)) as attacker:
        wait_until(lambda: _polled(attacker, "lan"), timeout=20)
        before = written(sim, "lan")
        statuses = [
            attacker.post("/control/reserve", json={"value": 50}, headers=wrong).status_code
            for _ in range(10)
        ]
        assert statuses == [401] * 10
        guess = attacker.post("/control/reserve", json={"value": 50}, headers=wrong)
        assert guess.status_code == 429 and int(guess.headers["retry-after"]) > 0
        assert written(sim, "lan") == before
        owner = attacker.post("/control/reserve", json={"value": 50}, headers=BEARER)
        assert owner.status_code == 200, owner.text
        neighbour = TestClient(app, client=("10.0.0.10", 4000))
        assert neighbour.get("/api/control/audit", headers=BEARER).status_code == 200


def test_control_off_refuses_every_write_and_still_reads(
    sim: RunningSimulator, key_file: Path
) -> None:
    app = create_app(server(sim, key_file))
    before = written(sim, "lan")
    with TestClient(app) as off:
        wait_until(lambda: _polled(off, "lan"), timeout=20)
        writes = [
            ("/control/reserve", {"value": 50}),
            ("/control/reserve_hold", {}),
            ("/gw/lan/control/mode", {"value": "backup"}),
            ("/api/gateways/lan/control/grid_export", {"value": "never"}),
            ("/api/gateways/lan/control", {"reserve": 50}),
        ]
        for path, body in writes:
            answer = off.post(path, json=body, headers=BEARER)
            assert answer.status_code == 403, path
            assert "PW_CONTROL_SECRET" in answer.json()["error"]
        assert off.get("/control/reserve").status_code == 200
        assert off.get("/api/gateways/lan/control").json()["enabled"] is False
        assert off.get("/api/control").json()["enabled"] is False
    assert written(sim, "lan") == before


@pytest.mark.parametrize(
    ("library_timeout", "status", "says"),
    [
        (30.0, 504, "did not answer in time"),  # ours ends it: the write may still apply
        (5.0, 504, "did not answer in time"),  # pypowerwall's own timeout ends it first
    ],
)
def test_a_hung_gateway_answers_within_15_s_and_others_keep_polling(
    sim: RunningSimulator, key_file: Path, library_timeout: float, status: int, says: str
) -> None:
    lan, other, _ = gateways(sim, key_file)
    hung = lan.model_copy(update={"timeout": library_timeout})
    polled = other.model_copy(update={"poll_interval": 1.0})
    control = ServerConfig(bind_address="127.0.0.1", control_secret=SecretStr(SECRET))
    app = create_app(Settings(server=control, gateways=(hung, polled)))
    with TestClient(app) as test_client:
        wait_until(lambda: _polled(test_client, "lan"), timeout=20)
        fault = sim.set_fault("lan", Fault("hang"))
        try:
            other_before = sim.total_requests("other")
            started = time.monotonic()
            answer = test_client.post("/control/reserve", json={"value": 45}, headers=BEARER)
            took = time.monotonic() - started
            assert answer.status_code == status
            assert answer.json()["error"] == "Failed to set reserve"
            assert says in answer.json()["detail"]
            assert took < 15
            assert sim.total_requests("other") > other_before  # its polls went on meanwhile
        finally:
            sim.clear_faults("lan", fault)
