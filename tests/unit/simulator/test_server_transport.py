"""The simulator's transport against a tiny fake gateway app: HTTPS keep-alive, malformed
HTTP, every fault kind and scope, the admin API and the request log."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.observe import RequestLog, RequestRecord
from pypowerwall_server.simulator.runner import (
    RunningSimulator,
    SimulatorCluster,
    running_simulator,
)
from pypowerwall_server.simulator.state import ExportRule, MeterState, OperatingMode, SiteState
from tests.waiting import wait_until

pytestmark = pytest.mark.integration  # starts a server or the simulator

_METER = MeterState(0.0, 0.0, 0.0, 60.0, 0.0, 0.0, 240.0, 0.0, 0.0)


class FakeApp:
    """Echoes each request as JSON; records control calls."""

    def __init__(self, gateway_id: str = "gw1") -> None:
        self.gateway_id = gateway_id
        self.grid_up = True
        self.wrong_password = False
        self.missing: int | None = None
        self.firmware = "24.44.1 c58c2df3"
        self.operation: tuple[OperatingMode | None, float | None] = (None, None)
        self.grid_charging = False
        self.export_rule: ExportRule = "battery_ok"

    def handle(self, request: SimRequest) -> SimResponse:
        if self.wrong_password and request.path == "/api/login/Basic":
            return SimResponse(401, b'{"error": "bad credentials"}')
        body = {
            "gateway": self.gateway_id,
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "body": request.body.decode("latin-1"),
            "cookie": request.headers.get("cookie"),
        }
        return SimResponse(200, orjson.dumps(body), headers=(("set-cookie", "AuthCookie=x"),))

    def state(self) -> SiteState:
        mode, reserve = self.operation
        return SiteState(
            sim_time=0.0,
            gateway_din="1232100-00-E--TG0",
            gateway_part_number="1232100-00-E",
            gateway_serial="TG0",
            site_name="Fake",
            timezone="UTC",
            firmware_version=self.firmware,
            git_hash="abc",
            uptime_seconds=1.0,
            start_time=0.0,
            site=_METER,
            battery=_METER,
            load=_METER,
            solar=_METER,
            powerwalls=(),
            solar_inverters=(),
            strings=(),
            grid_up=self.grid_up,
            grid_status="SystemGridConnected" if self.grid_up else "SystemIslandedActive",
            operating_mode=mode or "self_consumption",
            backup_reserve_raw_percent=24.0 if reserve is None else reserve,
            grid_charging=self.grid_charging,
            export_rule=self.export_rule,
            soe_raw_percent=50.0,
            nominal_full_pack_energy_wh=0.0,
            nominal_energy_remaining_wh=0.0,
            alerts=(),
        )

    def set_grid_up(self, up: bool) -> None:
        self.grid_up = up

    def set_operation(self, mode: OperatingMode | None, reserve_raw_percent: float | None) -> None:
        self.operation = (mode, reserve_raw_percent)

    def set_grid_charging(self, enabled: bool) -> None:
        self.grid_charging = enabled

    def set_export_rule(self, rule: ExportRule) -> None:
        self.export_rule = rule

    def set_wrong_password_mode(self, enabled: bool) -> None:
        self.wrong_password = enabled

    def set_missing_powerwall(self, index: int | None) -> None:
        self.missing = index

    def set_firmware(self, version: str) -> None:
        self.firmware = version


def fake_factory(config: SiteConfig) -> FakeApp:
    return FakeApp(config.gateway_id)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    configs = [SiteConfig(gateway_id="gw1"), SiteConfig(gateway_id="gw2")]
    with running_simulator(configs, app_factory=fake_factory, admin_token="secret") as running:
        yield running


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def url(sim: RunningSimulator, path: str, gateway: int = 0) -> str:
    return f"https://{sim.gateways[gateway].host}{path}"


def get(sim: RunningSimulator, path: str, timeout: float = 5.0) -> requests.Response:
    return requests.get(url(sim, path), verify=False, timeout=timeout)


def fake(sim: RunningSimulator, gateway_id: str = "gw1") -> FakeApp:
    app = sim.gateway(gateway_id).app
    assert isinstance(app, FakeApp)
    return app


def raw_tls_exchange(sim: RunningSimulator, payload: bytes) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    gateway = sim.gateways[0]
    with (
        socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        tls.sendall(payload)
        return tls.recv(65536)


# --- plain transport ---------------------------------------------------------------------


def test_each_gateway_answers_on_its_own_port_with_query_body_and_headers(
    sim: RunningSimulator, session: requests.Session
) -> None:
    assert sim.gateways[0].port != sim.gateways[1].port
    assert sim.gateways[1].host == f"127.0.0.1:{sim.gateways[1].port}"
    answer = session.post(
        url(sim, "/api/login/Basic?a=1", 1),
        data=b"hello",
        cookies={"AuthCookie": "c"},
        verify=False,
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "gateway": "gw2",
        "method": "POST",
        "path": "/api/login/Basic",
        "query": "a=1",
        "body": "hello",
        "cookie": "AuthCookie=c",
    }
    assert answer.cookies.get("AuthCookie") == "x"


def test_keep_alive_reuses_one_connection(sim: RunningSimulator, session: requests.Session) -> None:
    for _ in range(5):
        assert session.get(url(sim, "/api/status"), verify=False, timeout=5).status_code == 200
    summary = sim.cluster.server("gw1").log.summary()
    assert summary["connections"] == 1
    assert summary["total"] == 5


def test_malformed_http_gets_400_and_the_server_keeps_running(sim: RunningSimulator) -> None:
    answer = raw_tls_exchange(sim, b"THIS IS NOT HTTP\x00\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert get(sim, "/api/status").status_code == 200


def test_app_exception_becomes_500(sim: RunningSimulator) -> None:
    def broken(request: SimRequest) -> SimResponse:
        raise RuntimeError("bug")

    fake(sim).handle = broken  # type: ignore[method-assign]
    assert get(sim, "/api/status").status_code == 500
    assert sim.recent_requests("gw1")[-1].status == 500


# --- faults ------------------------------------------------------------------------------


def test_latency_delays_the_answer(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("latency", latency_ms=300))
    started = time.monotonic()
    assert get(sim, "/api/status").status_code == 200
    assert time.monotonic() - started >= 0.3
    record = sim.recent_requests("gw1")[-1]
    assert record.fault == "latency"
    assert record.duration_ms >= 300


def test_hang_is_bounded_by_the_client_timeout_and_logged_without_answer(
    sim: RunningSimulator,
) -> None:
    sim.set_fault("gw1", Fault("hang"))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(sim, "/api/status", timeout=0.5)
    assert time.monotonic() - started < 2.0
    wait_until(lambda: [r.status for r in sim.recent_requests("gw1")] == [0], timeout=3.0)


def test_hang_with_duration_answers_when_the_fault_ends(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("hang", duration=0.4))
    started = time.monotonic()
    assert get(sim, "/api/status").status_code == 200
    assert 0.35 <= time.monotonic() - started < 3.0


def test_clearing_faults_releases_a_hung_request(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("hang", count=1))
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(get(sim, "/x").status_code))
    worker.start()
    wait_until(lambda: sim.cluster.server("gw1").faults.active() == [], timeout=3.0)  # count used
    time.sleep(0.2)
    assert results == []  # still held after its count was used up
    assert sim.clear_faults("gw1") == 0
    worker.join(5)
    assert results == [200]


@pytest.mark.parametrize("status", [429, 503, 500])
def test_status_fault_answers_that_status(sim: RunningSimulator, status: int) -> None:
    sim.set_fault("gw1", Fault("status", status=status))
    answer = get(sim, "/api/meters/aggregates")
    assert answer.status_code == status
    assert answer.json()["code"] == status


def test_refused_closes_the_port_then_listens_again(
    sim: RunningSimulator, session: requests.Session
) -> None:
    assert session.get(url(sim, "/a"), verify=False, timeout=5).status_code == 200
    sim.set_fault("gw1", Fault("refused", duration=0.6))
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(url(sim, "/a"), verify=False, timeout=2)  # the kept-alive one was dropped
    with pytest.raises(requests.exceptions.ConnectionError) as refused:
        get(sim, "/a", timeout=2)
    assert "refused" in str(refused.value).lower()
    wait_until(lambda: sim.cluster.server("gw1").listening, timeout=3.0)
    assert get(sim, "/a").status_code == 200
    assert get(sim, "/a", timeout=5).status_code == 200


def test_tls_failure_breaks_the_handshake_for_count_connections(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("tls_failure", count=1))
    with pytest.raises(requests.exceptions.SSLError):
        get(sim, "/a")
    assert get(sim, "/a").status_code == 200
    assert sim.cluster.server("gw1").log.summary()["tls_failures"] == 1


def test_truncated_body_breaks_the_read(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("truncated", count=1))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(sim, "/a")
    assert get(sim, "/a").status_code == 200


def test_garbage_body_is_not_json(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("garbage", count=1))
    answer = get(sim, "/a")
    assert answer.status_code == 200
    assert answer.content.startswith(b"\x00\xff")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()


def test_count_scope_ends_after_n_matching_requests(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("status", status=503, count=2))
    assert [get(sim, "/a").status_code for _ in range(3)] == [503, 503, 200]


def test_duration_scope_ends_after_its_seconds(sim: RunningSimulator) -> None:
    # Lower bounds only: a busy machine may delay the checks, never end the fault early.
    # (A 0.3 s fault could end before the first request of a loaded run was answered.)
    duration = 2.0
    set_at = time.monotonic()
    sim.set_fault("gw1", Fault("status", status=503, duration=duration))
    assert get(sim, "/a").status_code == 503
    wait_until(lambda: get(sim, "/a").status_code == 200, 10)
    assert time.monotonic() - set_at >= duration


@pytest.mark.parametrize(
    ("scope", "hit", "miss"),
    [
        ({"path": "/api/meters/*"}, "/api/meters/aggregates", "/api/status"),
        ({"path_regex": "^/tedapi/"}, "/tedapi/v1", "/api/tedapi/v1"),
    ],
)
def test_path_scope_only_touches_matching_paths(
    sim: RunningSimulator, scope: dict[str, str], hit: str, miss: str
) -> None:
    sim.set_fault("gw1", Fault("status", status=500, count=1, **scope))  # type: ignore[arg-type]
    assert get(sim, miss).status_code == 200
    assert get(sim, hit).status_code == 500
    assert get(sim, hit).status_code == 200


def test_faults_on_one_gateway_leave_the_others_alone(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("status", status=503))
    assert requests.get(url(sim, "/a", 1), verify=False, timeout=5).status_code == 200


def test_wrong_password_for_count_requests_then_restored(sim: RunningSimulator) -> None:
    sim.set_fault("gw1", Fault("wrong_password", path="/api/login/*", count=1))
    assert fake(sim).wrong_password
    assert get(sim, "/api/status").status_code == 200  # not matching: count unused
    assert requests.post(url(sim, "/api/login/Basic"), verify=False, timeout=5).status_code == 401
    assert not fake(sim).wrong_password


def test_app_faults_with_duration_restore_the_previous_values(sim: RunningSimulator) -> None:
    fake(sim).set_missing_powerwall(None)
    sim.set_fault("gw1", Fault("grid_outage", duration=0.3))
    sim.set_fault("gw1", Fault("firmware", version="23.36.1 abc", duration=0.3))
    sim.set_fault("gw1", Fault("missing_powerwall", index=1, duration=0.3))
    app = fake(sim)
    assert (app.grid_up, app.firmware, app.missing) == (False, "23.36.1 abc", 1)
    wait_until(lambda: sim.cluster.server("gw1").faults.active() == [], timeout=3.0)
    assert (app.grid_up, app.firmware, app.missing) == (True, "24.44.1 c58c2df3", None)


def test_replacing_an_app_fault_keeps_the_original_value_to_restore(
    sim: RunningSimulator,
) -> None:
    sim.set_fault("gw1", Fault("firmware", version="23.36.1 a"))
    sim.set_fault("gw1", Fault("firmware", version="23.44.0 b"))
    assert fake(sim).firmware == "23.44.0 b"
    assert len(sim.cluster.server("gw1").faults.active()) == 1
    sim.clear_faults("gw1")
    assert fake(sim).firmware == "24.44.1 c58c2df3"


def test_clear_one_fault_by_id(sim: RunningSimulator) -> None:
    first = sim.set_fault("gw1", Fault("status", status=503))
    sim.set_fault("gw1", Fault("latency", latency_ms=1))
    assert sim.clear_faults("gw1", first) == 1
    assert [a.fault.kind for a in sim.cluster.server("gw1").faults.active()] == ["latency"]
    assert get(sim, "/a").status_code == 200


# --- admin API ---------------------------------------------------------------------------


def admin(
    sim: RunningSimulator, method: str, path: str, body: Any = None, token: str = "secret"
) -> requests.Response:
    data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{sim.admin_url}{path}", data=data, headers=headers, timeout=5)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}])
def test_admin_rejects_missing_or_wrong_token(
    sim: RunningSimulator, headers: dict[str, str]
) -> None:
    answer = requests.get(f"{sim.admin_url}/gateways", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert "error" in answer.json()


def test_admin_health_needs_no_token(sim: RunningSimulator) -> None:
    assert requests.get(f"{sim.admin_url}/health", timeout=5).json() == {"ok": True}


def test_admin_lists_gateways(sim: RunningSimulator) -> None:
    listed = admin(sim, "GET", "/gateways").json()["gateways"]
    assert [(g["id"], g["host"], g["listening"]) for g in listed] == [
        (g.id, g.host, True) for g in sim.gateways
    ]


def test_admin_gateway_state_summary(sim: RunningSimulator) -> None:
    body = admin(sim, "GET", "/gateways/gw2").json()
    assert body["id"] == "gw2"
    assert body["state"]["grid_status"] == "SystemGridConnected"
    assert body["state"]["firmware_version"] == "24.44.1 c58c2df3"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        ([1, 2], "JSON object"),
        ({"kind": "meteor"}, "unknown fault kind"),
        ({"kind": "status", "status": 200}, "between 400 and 599"),
        ({"kind": "latency"}, "latency_ms"),
        ({"kind": "hang", "color": "red"}, "unknown fault fields"),
        ({"kind": "hang", "count": 0}, "count"),
        ({"kind": "hang", "duration": -1}, "duration"),
        ({"kind": "hang", "path_regex": "("}, "path_regex"),
        ({"kind": "refused", "count": 1}, "duration"),
        ({"kind": "tls_failure", "path": "/a"}, "count/duration"),
        ({"path": "/a"}, "needs a kind"),
    ],
)
def test_admin_rejects_bad_faults_with_400(
    sim: RunningSimulator, body: object, message: str
) -> None:
    answer = admin(sim, "POST", "/gateways/gw1/faults", body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert sim.cluster.server("gw1").faults.active() == []


def test_admin_sets_lists_and_clears_faults(sim: RunningSimulator) -> None:
    created = admin(sim, "POST", "/gateways/gw1/faults", {"kind": "status", "status": 429})
    assert created.status_code == 200
    fault = created.json()["fault"]
    assert (fault["kind"], fault["status"]) == ("status", 429)
    assert get(sim, "/a").status_code == 429
    listed = admin(sim, "GET", "/gateways/gw1/faults").json()["faults"]
    assert [f["id"] for f in listed] == [fault["id"]]
    assert admin(sim, "DELETE", f"/gateways/gw1/faults/{fault['id']}").json() == {"cleared": 1}
    assert admin(sim, "DELETE", f"/gateways/gw1/faults/{fault['id']}").status_code == 404
    assert get(sim, "/a").status_code == 200


def test_admin_faults_for_every_gateway(sim: RunningSimulator) -> None:
    answer = admin(sim, "POST", "/faults", {"kind": "grid_outage"}).json()
    assert sorted(answer["faults"]) == ["gw1", "gw2"]
    assert not fake(sim, "gw1").grid_up and not fake(sim, "gw2").grid_up
    assert admin(sim, "DELETE", "/faults").json() == {"cleared": 2}
    assert fake(sim, "gw1").grid_up and fake(sim, "gw2").grid_up


def test_admin_sets_grid_and_operation(sim: RunningSimulator) -> None:
    assert admin(sim, "POST", "/gateways/gw1/grid", {"up": False}).json() == {"grid_up": False}
    assert not fake(sim).grid_up
    body = {"mode": "backup", "reserve": 50, "grid_charging": True, "export_rule": "pv_only"}
    answer = admin(sim, "POST", "/gateways/gw1/operation", body)
    assert answer.status_code == 200
    assert answer.json()["state"]["operating_mode"] == "backup"
    app = fake(sim)
    assert (app.operation, app.grid_charging, app.export_rule) == (
        ("backup", 50.0),
        True,
        "pv_only",
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/gateways/gw1/grid", {"up": "no"}),
        ("/gateways/gw1/operation", {"mode": "turbo"}),
        ("/gateways/gw1/operation", {"reserve": 101}),
        ("/gateways/gw1/operation", {"export_rule": "always"}),
        ("/gateways/gw1/operation", {"speed": 1}),
        ("/gateways/gw1/operation", {}),
    ],
)
def test_admin_rejects_bad_control_with_400(
    sim: RunningSimulator, path: str, body: dict[str, object]
) -> None:
    assert admin(sim, "POST", path, body).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("GET", "/gateways/gw9", 404), ("PUT", "/gateways", 405)],
)
def test_admin_unknown_routes(sim: RunningSimulator, method: str, path: str, status: int) -> None:
    assert admin(sim, method, path).status_code == status


def test_admin_request_counts_ring_buffer_and_reset(sim: RunningSimulator) -> None:
    for path in ("/a", "/a", "/b"):
        get(sim, path)
    body = admin(sim, "GET", "/gateways/gw1/requests?limit=2").json()
    assert body["counts"] == {"/a": 2, "/b": 1}
    assert body["total"] == 3
    assert [(r["method"], r["path"], r["status"]) for r in body["recent"]] == [
        ("GET", "/a", 200),
        ("GET", "/b", 200),
    ]
    assert all(r["duration_ms"] >= 0 and r["time"] > 0 for r in body["recent"])
    everyone = admin(sim, "GET", "/requests").json()["gateways"]
    assert (everyone["gw1"]["total"], everyone["gw2"]["total"]) == (3, 0)
    assert admin(sim, "DELETE", "/gateways/gw1/requests").status_code == 200
    assert sim.request_counts("gw1") == {}
    assert sim.total_requests() == 0


def test_request_log_ring_keeps_the_newest() -> None:
    log = RequestLog(ring_size=2)
    for i, path in enumerate(["/a", "/b", "/a"]):
        log.record(RequestRecord(float(i), "GET", path, 200, 1.0, None))
    assert log.counts() == {"/a": 2, "/b": 1}
    assert [r.time for r in log.recent()] == [1.0, 2.0]
    assert [r.time for r in log.recent(1)] == [2.0]
    assert log.recent(0) == []


# --- lifecycle ---------------------------------------------------------------------------


def test_running_simulator_stops_cleanly() -> None:
    before = set(threading.enumerate())
    with running_simulator([SiteConfig()], app_factory=fake_factory) as running:
        port = running.gateways[0].port
        assert get(running, "/a").status_code == 200
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_async_cluster_runs_inside_an_existing_loop() -> None:
    async def scenario() -> tuple[int, int]:
        async with SimulatorCluster([SiteConfig()], app_factory=fake_factory) as cluster:
            gateway = cluster.gateways[0]
            answer = await asyncio.to_thread(
                requests.get, f"https://{gateway.host}/a", verify=False, timeout=5
            )
            cluster.set_fault(gateway.id, Fault("status", status=503, count=1))
            faulted = await asyncio.to_thread(
                requests.get, f"https://{gateway.host}/a", verify=False, timeout=5
            )
            return answer.status_code, faulted.status_code

    assert asyncio.run(scenario()) == (200, 503)
