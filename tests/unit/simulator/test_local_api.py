"""SimulatedGateway.handle as a client sees it: login, sessions, payloads, control."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from pypowerwall_server.simulator import gateway as gateway_module
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.gateway_auth import SESSION_TTL_S
from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.local_api import ROUTES
from pypowerwall_server.simulator.state import SiteState

NIGHT_PDT = 1749970800.0 + 2 * 3600.0  # 2025-06-15 02:00 America/Los_Angeles
FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway(clock: FakeClock) -> SimulatedGateway:
    return SimulatedGateway(SiteConfig(sim_start=NIGHT_PDT, initial_soe_raw_percent=60.0), clock)


def call(
    gw: SimulatedGateway,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> SimResponse:
    return gw.handle(SimRequest(method, path, "", headers or {}, body))


def login(gw: SimulatedGateway, password: str = "password") -> SimResponse:
    body = f"username=customer&password={password}&email=me%40example.com&clientInfo=timezone"
    return call(gw, "POST", "/api/login/Basic", body.encode(), FORM)


def bearer(gw: SimulatedGateway) -> dict[str, str]:
    return {"authorization": "Bearer " + json.loads(login(gw).body)["token"]}


def get_json(gw: SimulatedGateway, path: str, auth: dict[str, str]) -> Any:
    response = call(gw, "GET", path, headers=auth)
    assert response.status == 200, (path, response.body)
    return json.loads(response.body)


def post_operation(gw: SimulatedGateway, auth: dict[str, str], payload: object) -> SimResponse:
    return call(gw, "POST", "/api/operation", json.dumps(payload).encode(), {**JSON, **auth})


# --- login and sessions ---


def test_login_sets_cookies_and_returns_token(gateway: SimulatedGateway) -> None:
    response = login(gateway)
    assert response.status == 200
    body = json.loads(response.body)
    cookies = [value for name, value in response.headers if name == "Set-Cookie"]
    assert cookies[0].startswith(f"AuthCookie={body['token']};")
    assert cookies[1].startswith("UserRecord=")
    assert body["email"] == "me@example.com" and body["roles"] == ["Home_Owner"]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"username": "customer", "password": "password", "email": "a@b"}', JSON, 200),
        (b"username=customer&password=password", FORM, 200),
        (b"username=customer&password=FGHIJ", FORM, 200),  # derived from gw_pwd ABCDEFGHIJ
        (b"username=customer&password=wrong", FORM, 401),
        (b"username=installer&password=password", FORM, 401),
        (b"username=customer", FORM, 401),
        (b'{"username": "customer", "password": ', JSON, 400),
        (b'["customer", "password"]', JSON, 400),
    ],
)
def test_login_table(
    gateway: SimulatedGateway, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = call(gateway, "POST", "/api/login/Basic", body, headers)
    assert response.status == status
    if status == 401:
        assert json.loads(response.body)["error"] == "bad credentials"


def test_missing_or_unknown_session_is_refused(gateway: SimulatedGateway) -> None:
    assert call(gateway, "GET", "/api/meters/aggregates").status == 401
    bogus = {"authorization": "Bearer not-a-token"}
    assert call(gateway, "GET", "/api/meters/aggregates", headers=bogus).status == 401
    assert (
        call(gateway, "GET", "/api/system_status/soe", headers={"cookie": "AuthCookie=x"}).status
        == 401
    )


def test_bearer_and_cookie_both_accepted(gateway: SimulatedGateway) -> None:
    token = json.loads(login(gateway).body)["token"]
    for headers in (
        {"authorization": f"Bearer {token}"},
        {"cookie": f"AuthCookie={token}; UserRecord=abc"},
    ):
        assert call(gateway, "GET", "/api/meters/aggregates", headers=headers).status == 200


def test_session_expires_and_logout_ends_it(gateway: SimulatedGateway, clock: FakeClock) -> None:
    auth = bearer(gateway)
    clock.now += SESSION_TTL_S + 1
    assert call(gateway, "GET", "/api/system_status/soe", headers=auth).status == 401
    auth = bearer(gateway)
    assert call(gateway, "GET", "/api/logout", headers=auth).status == 204
    assert call(gateway, "GET", "/api/system_status/soe", headers=auth).status == 401


def test_wrong_password_mode_refuses_logins_and_ends_sessions(gateway: SimulatedGateway) -> None:
    auth = bearer(gateway)
    gateway.set_wrong_password_mode(True)
    assert login(gateway).status == 401
    assert call(gateway, "GET", "/api/system_status/soe", headers=auth).status == 401
    gateway.set_wrong_password_mode(False)
    assert login(gateway).status == 200


def test_status_is_public_and_unknown_paths_are_404(gateway: SimulatedGateway) -> None:
    assert call(gateway, "GET", "/api/status").status == 200
    auth = bearer(gateway)
    for path in ("/api/nope", "/api/meters/aggregates/extra", "/index.html"):
        assert call(gateway, "GET", path, headers=auth).status == 404
    assert call(gateway, "GET", "/api/nope").status == 404


def test_post_to_read_only_path_is_rejected(gateway: SimulatedGateway) -> None:
    assert call(gateway, "POST", "/api/meters/aggregates", b"{}", bearer(gateway)).status == 405


# --- payload shapes ---


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_every_route_answers_json(gateway: SimulatedGateway, path: str) -> None:
    response = call(gateway, "GET", path, headers=bearer(gateway))
    assert response.status == 200 and response.content_type == "application/json"
    assert json.loads(response.body) is not None


def test_aggregates_shape_and_balance(gateway: SimulatedGateway) -> None:
    body = get_json(gateway, "/api/meters/aggregates", bearer(gateway))
    assert list(body) == ["site", "battery", "load", "solar"]
    assert list(body["site"])[:4] == [
        "last_communication_time",
        "instant_power",
        "instant_reactive_power",
        "instant_apparent_power",
    ]
    assert "num_meters_aggregated" not in body["load"]
    assert body["battery"]["num_meters_aggregated"] == 2
    power = {name: meter["instant_power"] for name, meter in body.items()}
    assert power["load"] == power["solar"] + power["battery"] + power["site"]
    assert power["battery"] > 0  # night: the battery carries the house


def test_soe_matches_system_status_energies(gateway: SimulatedGateway) -> None:
    auth = bearer(gateway)
    level = get_json(gateway, "/api/system_status/soe", auth)["percentage"]
    status = get_json(gateway, "/api/system_status", auth)
    blocks = status["battery_blocks"]
    assert len(blocks) == status["available_blocks"] == 2
    ratio = sum(b["nominal_energy_remaining"] for b in blocks) / sum(
        b["nominal_full_pack_energy"] for b in blocks
    )
    assert level == pytest.approx(100 * ratio, abs=0.01)
    assert status["system_island_state"] == "SystemGridConnected"
    assert {"PackagePartNumber", "PackageSerialNumber", "p_out", "energy_charged"} <= set(blocks[0])


def test_missing_powerwall_hidden_from_status(gateway: SimulatedGateway) -> None:
    auth = bearer(gateway)
    gateway.set_missing_powerwall(0)
    blocks = get_json(gateway, "/api/system_status", auth)["battery_blocks"]
    assert [b["PackageSerialNumber"] for b in blocks] == [gateway.state().powerwalls[1].serial]
    assert len(get_json(gateway, "/api/powerwalls", auth)["powerwalls"]) == 1


def test_grid_outage_reported(gateway: SimulatedGateway) -> None:
    auth = bearer(gateway)
    gateway.set_grid_up(False)
    assert get_json(gateway, "/api/system_status/grid_status", auth)["grid_status"] == (
        "SystemIslandedActive"
    )
    assert get_json(gateway, "/api/meters/aggregates", auth)["site"]["instant_power"] == 0


def test_status_reports_firmware_and_uptime(gateway: SimulatedGateway, clock: FakeClock) -> None:
    before = get_json(gateway, "/api/status", {})
    assert before["version"] == "24.44.1 c58c2df3" and before["din"] == gateway.config.gateway_din
    gateway.set_firmware("23.36.1 abcdef12")
    clock.now += 10
    after = get_json(gateway, "/api/status", {})
    assert after["version"] == "23.36.1 abcdef12"
    assert after["up_time_seconds"] != before["up_time_seconds"]


@pytest.mark.parametrize(
    ("firmware", "status"),
    [("24.44.1 c58c2df3", 404), ("23.44.0 9064fc6a", 404), ("23.36.1 x", 200)],
)
def test_devices_vitals_only_on_old_firmware(
    gateway: SimulatedGateway, firmware: str, status: int
) -> None:
    gateway.set_firmware(firmware)
    response = call(gateway, "GET", "/api/devices/vitals", headers=bearer(gateway))
    assert response.status == status
    if status == 200:
        assert response.content_type == "application/octet-stream"


def test_devices_vitals_needs_a_session(gateway: SimulatedGateway) -> None:
    gateway.set_firmware("23.36.1 x")
    assert call(gateway, "GET", "/api/devices/vitals").status == 401


# --- control ---


def test_post_operation_changes_mode_and_reserve(gateway: SimulatedGateway) -> None:
    auth = bearer(gateway)
    response = post_operation(gateway, auth, {"real_mode": "backup", "backup_reserve_percent": 80})
    assert response.status == 200
    assert json.loads(response.body)["real_mode"] == "backup"
    body = get_json(gateway, "/api/operation", auth)
    assert (body["real_mode"], body["backup_reserve_percent"]) == ("backup", 80.0)


def test_raising_reserve_stops_discharge(gateway: SimulatedGateway, clock: FakeClock) -> None:
    auth = bearer(gateway)
    assert get_json(gateway, "/api/meters/aggregates", auth)["battery"]["instant_power"] > 0
    assert post_operation(gateway, auth, {"backup_reserve_percent": 100}).status == 200
    clock.now += 60
    aggregates = get_json(gateway, "/api/meters/aggregates", auth)
    assert aggregates["battery"]["instant_power"] == 0
    assert aggregates["site"]["instant_power"] == aggregates["load"]["instant_power"]


def test_backup_mode_with_grid_charging_charges(
    gateway: SimulatedGateway, clock: FakeClock
) -> None:
    auth = bearer(gateway)
    gateway.set_grid_charging(True)
    assert post_operation(gateway, auth, {"real_mode": "backup"}).status == 200
    level_before = get_json(gateway, "/api/system_status/soe", auth)["percentage"]
    clock.now += 600
    assert get_json(gateway, "/api/meters/aggregates", auth)["battery"]["instant_power"] < 0
    assert get_json(gateway, "/api/system_status/soe", auth)["percentage"] > level_before


@pytest.mark.parametrize(
    "body",
    [
        b'{"real_mode": "backup"',
        b'{"real_mode": "turbo"}',
        b'{"backup_reserve_percent": 150}',
        b'{"backup_reserve_percent": "20"}',
        b'{"backup_reserve_percent": true}',
        b"[1, 2]",
    ],
)
def test_bad_operation_bodies_are_400(gateway: SimulatedGateway, body: bytes) -> None:
    response = call(gateway, "POST", "/api/operation", body, {**JSON, **bearer(gateway)})
    assert response.status == 400
    assert get_json(gateway, "/api/operation", bearer(gateway))["real_mode"] == "self_consumption"


def test_post_operation_needs_a_session(gateway: SimulatedGateway) -> None:
    assert call(gateway, "POST", "/api/operation", b'{"real_mode": "backup"}', JSON).status == 401


def test_time_follows_the_clock_times_acceleration(clock: FakeClock) -> None:
    config = SiteConfig(sim_start=NIGHT_PDT, time_acceleration=120.0)
    gw = SimulatedGateway(config, clock)
    clock.now += 30
    assert gw.state().sim_time == pytest.approx(NIGHT_PDT + 3600.0)


def test_tedapi_requests_are_delegated(
    gateway: SimulatedGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, bool]] = []

    def fake_tedapi(request: SimRequest, site: SiteState, gw_pwd: str, refuse: bool) -> SimResponse:
        seen.append((request.path, gw_pwd, refuse))
        return SimResponse(status=200, body=b"pb", content_type="application/octet-stream")

    monkeypatch.setattr(gateway_module, "handle_tedapi", fake_tedapi)
    gateway.set_wrong_password_mode(True)
    assert call(gateway, "POST", "/tedapi/v1", b"\x00").body == b"pb"
    assert call(gateway, "GET", "/").status == 200
    assert seen == [("/tedapi/v1", "ABCDEFGHIJ", True), ("/", "ABCDEFGHIJ", True)]


def test_concurrent_requests_are_safe(gateway: SimulatedGateway, clock: FakeClock) -> None:
    auth = bearer(gateway)
    failures: list[int] = []

    def worker() -> None:
        for _ in range(50):
            clock.now += 1
            response = call(gateway, "GET", "/api/meters/aggregates", headers=auth)
            if response.status != 200:
                failures.append(response.status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == [] and not any(t.is_alive() for t in threads)


def test_state_is_reused_briefly_but_controls_show_at_once(
    gateway: SimulatedGateway, clock: FakeClock
) -> None:
    first = gateway.state()
    assert gateway.state() is first
    gateway.set_grid_up(False)
    assert gateway.state().grid_status == "SystemIslandedActive"
    clock.now += 1
    assert gateway.state().sim_time == pytest.approx(first.sim_time + 1)


def test_system_status_without_capacity(clock: FakeClock) -> None:
    """SiteConfig.system_status_capacity=False: no energy fields in /api/system_status (at
    the top nor per block); state of energy, battery power and site info stay."""
    config = SiteConfig(sim_start=NIGHT_PDT, system_status_capacity=False)
    gw = SimulatedGateway(config, clock)
    auth = bearer(gw)
    status = get_json(gw, "/api/system_status", auth)
    for part in (status, *status["battery_blocks"]):
        assert not {"nominal_full_pack_energy", "nominal_energy_remaining"} & set(part)
    assert all(isinstance(b["p_out"], int | float) for b in status["battery_blocks"])
    assert get_json(gw, "/api/system_status/soe", auth)["percentage"] > 0
    assert get_json(gw, "/api/site_info", auth)["nominal_system_energy_kWh"] > 0
