"""The real, unmodified pypowerwall in FleetAPI mode against the simulated Fleet API, set up
as a user would: a `.pypowerwall.fleetapi` whose AUDIENCE is the simulator, TLS trusted
through the standard CA variables (a bundle with the simulator's CA, made here), over both
of pypowerwall's transports (httpx HTTP/2 by default, requests with PW_FLEETAPI_HTTP=1.1).

Nothing may leave the machine: every name lookup for a non-loopback host fails the test,
except where a test expects pypowerwall's token refresh to try auth.tesla.com (it is
blocked, and the test checks that it was)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pypowerwall.fleetapi import fleetapi as fleetapi_module

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import (
    ManualClock,
    admin,
    admin_call,
    settings,
    written,
)

from .conftest import direct_powerwall

pytestmark = pytest.mark.integration

NOON = 1782070200.0  # 2026-06-21 12:30 PDT: the sun is up
HOME = replace(
    SiteConfig.for_index(0),
    gateway_id="home",
    powerwalls=2,
    sim_start=NOON,
    initial_soe_raw_percent=50.0,
)
CABIN = replace(SiteConfig.for_index(1), gateway_id="cabin", sim_start=NOON)


@dataclass
class InternetGuard:
    """Non-loopback hosts looked up so far (every one refused), and those a test expects."""

    attempts: list[str] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[InternetGuard]:
    guard = InternetGuard()
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not _is_loopback(name):
            guard.attempts.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"test refuses non-loopback host {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield guard
    unexpected = set(guard.attempts) - guard.expected
    assert not unexpected, f"pypowerwall tried to reach {sorted(unexpected)}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[RunningSimulator]:
    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([HOME, CABIN], app_factory=factory, fleet_api=True) as running:
        yield running


def _drop_shared_http2_client() -> None:
    """pypowerwall keeps one module-level httpx client whose trust is fixed when it is
    made; closing it makes the next request build one from the current environment."""
    client = fleetapi_module._http2_client
    if client is not None:
        client.close()


def _trust(bundle: Path, extra: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    base = os.environ.get("REQUESTS_CA_BUNDLE", "")
    existing = Path(base).read_bytes() if base and Path(base).is_file() else b""
    bundle.write_bytes(existing + b"\n" + extra)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # requests (HTTP/1.1)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # ssl's default paths (httpx, HTTP/2)
    _drop_shared_http2_client()


@pytest.fixture(params=["http2", "http1.1"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "http1.1":
        monkeypatch.setenv("PW_FLEETAPI_HTTP", "1.1")
    else:
        monkeypatch.delenv("PW_FLEETAPI_HTTP", raising=False)
    yield request.param
    _drop_shared_http2_client()


@pytest.fixture
def trusted(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    assert sim.ca_pem is not None
    _trust(tmp_path / "ca-bundle.pem", sim.ca_pem, monkeypatch)
    yield tmp_path
    _drop_shared_http2_client()


def fleet_client(sim: RunningSimulator, gateway_id: str, authpath: Path) -> Any:
    """pypowerwall as a FleetAPI user sets it up: no host, fleetapi=True, authpath holding
    .pypowerwall.fleetapi."""
    sim.write_fleetapi_config(gateway_id, authpath)
    return direct_powerwall("", fleetapi=True, authpath=str(authpath), pwcacheexpire=0)


def test_fleetapi_reads_and_writes_end_to_end(
    sim: RunningSimulator,
    trusted: Path,
    transport: str,
    no_internet: InternetGuard,
    clock: ManualClock,
) -> None:
    pw = fleet_client(sim, "home", trusted)
    assert pw.mode == "fleetapi" and pw.siteid == HOME.energy_site_id
    cabin_before = written(sim, "cabin")
    state = sim.gateway("home").app.state()
    assert pw.site_name() == state.site_name
    assert pw.din() == state.gateway_din
    assert pw.version() == state.firmware_version
    assert pw.power() == {
        "site": state.site.instant_power_w,
        "solar": state.solar.instant_power_w,
        "battery": state.battery.instant_power_w,
        "load": state.load.instant_power_w,
    }
    assert pw.level(scale=False) == pytest.approx(state.soe_raw_percent, abs=0.01)
    assert (pw.get_reserve(), pw.get_mode(), pw.grid_status()) == (
        pytest.approx(20.0),
        "self_consumption",
        "UP",
    )

    # the Fleet API holds at most 80 % as Tesla's does: 100 is taken and held at 80
    for app_reserve, held in ((20, 20), (100, 80), (80, 80)):
        assert pw.set_reserve(app_reserve) is not None
        raw = held * 0.95 + 5
        assert settings(sim, "home")["backup_reserve_raw_percent"] == pytest.approx(raw)
        assert pw.get_reserve() == pytest.approx(held)
        if app_reserve == 20:
            assert sim.gateway("home").app.state().site.instant_power_w == 0
    state = sim.gateway("home").app.state()  # reserve 80 > charge: all the sun refills it
    assert state.battery.instant_power_w == -state.solar.instant_power_w < 0
    assert pw.power()["battery"] == state.battery.instant_power_w
    level = pw.level()
    clock.advance(900)
    assert pw.level() > level

    pw.set_mode("backup")
    assert settings(sim, "home")["operating_mode"] == "backup" and pw.get_mode() == "backup"
    pw.set_mode("self_consumption")
    assert settings(sim, "home")["operating_mode"] == "self_consumption"

    assert pw.set_grid_charging(True)
    assert settings(sim, "home")["grid_charging"] is True and pw.get_grid_charging() is True
    state = sim.gateway("home").app.state()
    assert -state.battery.instant_power_w > state.solar.instant_power_w  # grid helps now
    pw.set_grid_charging(False)
    assert settings(sim, "home")["grid_charging"] is False and pw.get_grid_charging() is False

    assert pw.set_grid_export("never")
    assert settings(sim, "home")["export_rule"] == "never" and pw.get_grid_export() == "never"
    pw.set_grid_export("battery_ok")
    assert settings(sim, "home")["export_rule"] == "battery_ok"

    assert written(sim, "cabin") == cabin_before
    assert not any(str(CABIN.energy_site_id) in path for path in sim.fleet_api_request_counts())


def test_fleetapi_sees_the_site_go_off_grid_but_cannot_island_it(
    sim: RunningSimulator, trusted: Path, no_internet: InternetGuard
) -> None:
    pw = fleet_client(sim, "home", trusted)
    posts_before = sum(
        n for path, n in sim.fleet_api_request_counts().items() if "/live_status" not in path
    )
    assert pw.go_off_grid(confirm=True) is None  # pypowerwall has no FleetAPI islanding
    assert settings(sim, "home")["off_grid"] is False
    posts_after = sum(
        n for path, n in sim.fleet_api_request_counts().items() if "/live_status" not in path
    )
    assert posts_after == posts_before
    admin(sim, "POST", "/gateways/home/grid", {"up": False})
    assert pw.grid_status() == "DOWN"
    assert pw.power()["site"] == 0


def test_a_wrong_token_is_refused_and_the_refresh_never_leaves_the_machine(
    sim: RunningSimulator, trusted: Path, no_internet: InternetGuard
) -> None:
    no_internet.expected = {"auth.tesla.com"}
    before = written(sim, "home")
    config = admin(sim, "GET", "/gateways/home/fleetapi_config")
    config["access_token"] = "not-the-token"
    (trusted / ".pypowerwall.fleetapi").write_text(json.dumps(config))
    pw = direct_powerwall("", fleetapi=True, authpath=str(trusted), pwcacheexpire=0)
    # the 401 led to a token refresh, and the refresh went nowhere: not connected
    assert pw.siteid is None
    assert "auth.tesla.com" in no_internet.attempts
    statuses = {r.status for r in sim.cluster.fleet_api.log.recent(None)}  # type: ignore[union-attr]
    assert statuses == {401}
    assert written(sim, "home") == before


def test_without_the_simulator_ca_tls_fails_and_nothing_is_served(
    sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_internet: InternetGuard,
) -> None:
    _trust(tmp_path / "bundle.pem", b"", monkeypatch)  # the system CAs only
    sim.write_fleetapi_config("home", tmp_path)
    pw = direct_powerwall("", fleetapi=True, authpath=str(tmp_path), pwcacheexpire=0)
    assert pw.siteid is None
    assert sim.fleet_api_request_counts() == {}
    _drop_shared_http2_client()


def test_one_token_two_sites_writes_stay_apart(
    sim: RunningSimulator, trusted: Path, no_internet: InternetGuard, tmp_path: Path
) -> None:
    cabin_dir = tmp_path / "cabin"
    cabin_dir.mkdir()
    home = fleet_client(sim, "home", trusted)
    cabin = fleet_client(sim, "cabin", cabin_dir)
    assert {home.siteid, cabin.siteid} == {HOME.energy_site_id, CABIN.energy_site_id}
    cabin_before = written(sim, "cabin")
    home.set_reserve(90)
    home.set_mode("backup")
    assert written(sim, "cabin") == cabin_before
    assert cabin.get_reserve() == pytest.approx(20.0) and cabin.get_mode() == "self_consumption"
    cabin.set_grid_export("pv_only")
    assert settings(sim, "home")["export_rule"] == HOME.export_rule
    assert settings(sim, "cabin")["export_rule"] == "pv_only"


def test_admin_reports_the_fleet_api(sim: RunningSimulator) -> None:
    info = admin(sim, "GET", "/fleetapi")
    assert info["url"] == sim.fleet_api_url
    assert info["site_ids"] == {"home": HOME.energy_site_id, "cabin": CABIN.energy_site_id}
    assert "BEGIN CERTIFICATE" in info["ca_pem"]
    counts = admin(sim, "GET", "/fleetapi/requests")
    assert counts["total"] == 0
    assert "fleetapi" in admin(sim, "GET", "/requests")


def test_fleet_api_and_gateway_faults_are_independent(
    sim: RunningSimulator, trusted: Path, no_internet: InternetGuard
) -> None:
    pw = fleet_client(sim, "home", trusted)
    refused = sim.set_fault("home", Fault("refused", duration=30))  # the gateway's port
    assert pw.get_reserve() == pytest.approx(20.0)  # the cloud still answers
    sim.clear_faults("home", refused)
    admin(sim, "POST", "/fleetapi/faults", {"kind": "status", "status": 503, "count": 1})
    assert pw.get_reserve() is None  # pypowerwall turns the 503 into None
    assert pw.get_reserve() == pytest.approx(20.0)  # count used up
    site_fault = admin_call(sim, "POST", "/fleetapi/faults", {"kind": "grid_outage"})
    assert site_fault.status_code == 400
    assert admin(sim, "DELETE", "/fleetapi/faults") == {"cleared": 0}
