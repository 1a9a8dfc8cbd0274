"""The real pypowerwall 0.22.2 against the simulator under each fault: what a client of a
misbehaving gateway actually observes, within bounded time.

Observed pypowerwall behaviour worth knowing (and asserted below):
- Local mode answers errors with None from level()/poll() (and zeros from power()); it
  never raises for transport errors, only LoginError for a refused login.
- On 429/503 pypowerwall starts a 5-minute cooldown for that endpoint (local) or for all
  TEDAPI calls: during it no request reaches the gateway at all.
- TEDAPI's session retries connection errors 5x with backoff (0, 2, 4, 8, 16 s), so a short
  refusal is ridden out by a slow call, while a long one blocks a call for ~30 s.
- A TLS-handshake fault only hits new connections; a kept-alive connection keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pypowerwall
import pytest
from pypowerwall.local.exceptions import LoginError

from pypowerwall_server.gateway.tls import honor_session_verify
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator

pytestmark = pytest.mark.integration

CONFIG = SiteConfig()
TIMEOUT = 2
Connect = Callable[[], Any]


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    honor_session_verify()
    with running_simulator([CONFIG]) as running:
        yield running


@pytest.fixture
def local(sim: RunningSimulator, tmp_path: Path) -> Connect:
    """A new local-mode (customer login) pypowerwall client per call."""

    def connect() -> Any:
        return pypowerwall.Powerwall(
            sim.gateways[0].host,
            password=CONFIG.customer_password,
            email=CONFIG.customer_email,
            timezone=CONFIG.timezone,
            pwcacheexpire=0,
            timeout=TIMEOUT,
            failover=False,
            auto_select=False,
            cachefile=str(tmp_path / "local.cache"),
            authpath=str(tmp_path),
        )

    return connect


@pytest.fixture
def tedapi(sim: RunningSimulator, tmp_path: Path) -> Connect:
    """A new TEDAPI-mode (gateway password) pypowerwall client per call."""

    def connect() -> Any:
        return pypowerwall.Powerwall(
            sim.gateways[0].host,
            password="",
            gw_pwd=CONFIG.gw_pwd,
            timezone=CONFIG.timezone,
            pwcacheexpire=0,
            timeout=TIMEOUT,
            failover=False,
            auto_select=True,
            cachefile=str(tmp_path / "tedapi.cache"),
            authpath=str(tmp_path),
        )

    return connect


def fault(sim: RunningSimulator, kind: str, **fields: Any) -> None:
    sim.set_fault(sim.gateways[0].id, Fault(kind, **fields))  # type: ignore[arg-type]


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def tedapi_vital_units(pw: Any) -> list[str]:
    return [k for k in pw.vitals() or {} if k.startswith("TEPOD--")]


# --- transport faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "max_seconds"),
    [
        ("status", {"status": 503}, 1.0),
        ("status", {"status": 429}, 1.0),
        ("status", {"status": 500}, 1.0),
        ("refused", {"duration": 30}, 1.0),
        ("truncated", {}, 1.0),
        ("garbage", {}, 1.0),
        ("hang", {}, TIMEOUT + 1.5),
    ],
)
def test_local_mode_reads_none_under_transport_faults(
    sim: RunningSimulator, local: Connect, kind: str, fields: dict[str, Any], max_seconds: float
) -> None:
    pw = local()
    assert pw.level() is not None  # logged in, connection kept alive
    fault(sim, kind, **fields)
    level, seconds = timed(pw.level)
    assert level is None
    assert pw.poll("/api/meters/aggregates") is None
    assert seconds < max_seconds


def test_local_mode_503_starts_a_cooldown_that_outlives_the_fault(
    sim: RunningSimulator, local: Connect
) -> None:
    pw = local()
    assert pw.level() is not None
    fault(sim, "status", status=503, count=1, path="/api/system_status/soe")
    assert pw.level() is None
    sim.reset_requests()
    assert pw.level() is None  # fault used up, but pypowerwall does not ask again
    assert sim.request_counts(CONFIG.gateway_id).get("/api/system_status/soe", 0) == 0


def test_tls_failure_hits_new_connections_only(sim: RunningSimulator, local: Connect) -> None:
    kept_alive = local()
    assert kept_alive.level() is not None
    fault(sim, "tls_failure")
    fresh, seconds = timed(lambda: local().level())
    assert fresh is None
    assert seconds < 2.0
    assert kept_alive.level() is not None
    assert sim.cluster.server(CONFIG.gateway_id).log.summary()["tls_failures"] >= 1


def test_latency_shows_as_slower_answers(sim: RunningSimulator, local: Connect) -> None:
    pw = local()
    _, fast = timed(pw.level)
    fault(sim, "latency", latency_ms=500)
    level, slow = timed(pw.level)
    assert level is not None
    assert slow >= 0.5 > fast


def test_tedapi_hang_is_bounded_by_the_client_timeout(
    sim: RunningSimulator, tedapi: Connect
) -> None:
    pw = tedapi()
    assert pw.level() is not None
    fault(sim, "hang", path="/tedapi/*")
    level, seconds = timed(pw.level)
    assert level is None
    assert seconds < 2 * TIMEOUT + 2.0  # config and status queries each time out once


def test_tedapi_retries_ride_out_a_short_refusal(sim: RunningSimulator, tedapi: Connect) -> None:
    pw = tedapi()
    assert pw.level() is not None
    fault(sim, "refused", duration=1.0)
    level, seconds = timed(pw.level)
    assert level is not None
    assert 1.0 <= seconds < 8.0


def test_tedapi_503_pauses_all_gateway_traffic(sim: RunningSimulator, tedapi: Connect) -> None:
    pw = tedapi()
    assert pw.level() is not None
    fault(sim, "status", status=503, count=1, path="/tedapi/v1")
    assert pw.level() is None
    sim.reset_requests()
    assert pw.level() is None
    assert sim.total_requests() == 0


def test_tedapi_garbage_protobuf_reads_none(sim: RunningSimulator, tedapi: Connect) -> None:
    pw = tedapi()
    assert pw.level() is not None
    fault(sim, "garbage", path="/tedapi/v1")
    assert pw.level() is None


# --- site faults ------------------------------------------------------------------------------


def test_wrong_password_makes_local_login_fail(sim: RunningSimulator, local: Connect) -> None:
    fault(sim, "wrong_password", duration=30)
    with pytest.raises(LoginError):
        local().level()
    sim.clear_faults()
    assert local().level() is not None


def test_wrong_password_makes_tedapi_connect_fail(sim: RunningSimulator, tedapi: Connect) -> None:
    fault(sim, "wrong_password")
    pw, seconds = timed(tedapi)
    assert pw.level() is None
    assert seconds < 3.0
    statuses = {r.status for r in sim.recent_requests(CONFIG.gateway_id) if r.path == "/tedapi/din"}
    assert statuses and statuses <= {401, 403}


@pytest.mark.parametrize("mode", ["local", "tedapi"])
def test_grid_outage_shows_grid_down_then_up(
    sim: RunningSimulator, request: pytest.FixtureRequest, mode: str
) -> None:
    pw = request.getfixturevalue(mode)()
    assert pw.grid_status() == "UP"
    fault(sim, "grid_outage", duration=1.0)
    assert pw.grid_status() == "DOWN"
    time.sleep(1.2)
    assert pw.grid_status() == "UP"


def test_missing_powerwall_shows_fewer_blocks_and_vitals(
    sim: RunningSimulator, local: Connect, tedapi: Connect
) -> None:
    by_local, by_tedapi = local(), tedapi()
    blocks = len(by_local.system_status()["battery_blocks"])
    units = tedapi_vital_units(by_tedapi)
    assert blocks == len(units) == CONFIG.powerwalls
    fault(sim, "missing_powerwall", index=1)
    assert len(by_local.system_status()["battery_blocks"]) == blocks - 1
    remaining = tedapi_vital_units(by_tedapi)
    assert remaining == [units[0]]


def test_firmware_switch_changes_version_and_local_vitals(
    sim: RunningSimulator, local: Connect
) -> None:
    pw = local()
    assert pw.version() == CONFIG.firmware_version
    fault(sim, "firmware", version="23.36.1 abc")
    assert pw.version() == "23.36.1 abc"
    vitals = local().vitals()  # a fresh client: 24.44 had made the first one give up vitals
    assert any(key.startswith("TEPOD--") for key in vitals or {})
    sim.clear_faults()
    assert pw.version() == CONFIG.firmware_version
