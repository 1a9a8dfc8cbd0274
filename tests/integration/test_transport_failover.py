"""Ordered transports with failover and recovery, end to end: the server polls a
simulated gateway over TEDAPI with the real pypowerwall, falls over to the simulator's Fleet
API (the same site model) when TEDAPI fails, and goes back to TEDAPI once a recovery probe
answers well. Nothing leaves the machine (`no_internet`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import admin
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key
from tests.waiting import wait_until

from .conftest import frozen_gateway

# The Fleet API fixtures: no name lookups beyond loopback; the simulator's CA trusted (for
# this module's `sim`) in a bundle under tmp_path, which is also the auth folder.
from .test_sim_fleetapi import no_internet, trusted  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_internet")]

INTERVAL = 1.0
TIMEOUT = 0.5
FAILOVER_AFTER = 2
STALE_AFTER_INTERVALS = 4.0
STALE_LIMIT = INTERVAL * STALE_AFTER_INTERVALS
SWITCH_LOGGER = "pypowerwall_server.gateway.transports"
HOME = replace(SiteConfig.for_index(0), gateway_id="home", powerwalls=2)
SOLAR_ONLY_SITE = replace(SiteConfig.for_index(1), gateway_id="sunny", powerwalls=0)


@dataclass
class Watch:
    """Samples /api/gateways in the background: the newest-data times seen per gateway."""

    client: TestClient
    # gateway id -> [(seen at, last_updated)]
    updated: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.1):
            for body in self.client.get("/api/gateways").json()["gateways"]:
                if body["last_updated"] is not None:
                    seen = (time.time(), body["last_updated"])
                    self.updated.setdefault(body["id"], []).append(seen)

    def longest_gap(self, gateway_id: str = "home") -> float:
        """The longest time any sample saw data that old (the age clients were served)."""
        return max(seen - updated for seen, updated in self.updated[gateway_id])


@contextlib.contextmanager
def watching(client: TestClient) -> Iterator[Watch]:
    watch = Watch(client)
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    try:
        yield watch
    finally:
        watch.stop.set()
        watcher.join(5)


TEDAPI_FAULTS = {
    "refused": [Fault(kind="refused")],
    "hang": [Fault(kind="hang")],
    "503": [Fault(kind="status", status=503)],
    # New TLS connections fail; a short refusal drops the open ones (a Wi-Fi drop-out).
    "tls_failure": [Fault(kind="tls_failure"), Fault(kind="refused", duration=0.3)],
}


# One gateway per TEDAPI fault kind, all in one simulator, faulted at the same moment.
FAULTED_SITES = [
    replace(SiteConfig.for_index(i), gateway_id=f"gw-{kind}", powerwalls=2)
    for i, kind in enumerate(TEDAPI_FAULTS, start=3)
]


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    sites = [HOME, SOLAR_ONLY_SITE, *FAULTED_SITES]
    with running_simulator(
        sites, app_factory=frozen_gateway, fleet_api=True, admin=False
    ) as running:
        yield running


# Shortened timing, so that a test sees failover and recovery in seconds.
QUICK: dict[str, Any] = {
    "poll_interval": INTERVAL,
    "timeout": TIMEOUT,
    "failover_after": FAILOVER_AFTER,
    "recovery_probe": 1.0,
    "remote_interval": INTERVAL,
}


def gateway(
    sim: RunningSimulator, gateway_id: str, authpath: Path, timing: dict[str, Any] = QUICK
) -> GatewayConfig:
    """[tedapi, fleetapi]: the Wi-Fi TEDAPI preferred, the Fleet API as the fallback."""
    gw = sim.gateway(gateway_id)
    folder = authpath / gateway_id
    folder.mkdir()
    sim.write_fleetapi_config(gateway_id, folder)
    return GatewayConfig(
        id=gateway_id,
        name=gateway_id,
        host=gw.host,
        gw_pwd=SecretStr(gw.config.gw_pwd),
        authpath=str(folder),
        transports=("tedapi", "fleetapi"),
        **timing,
    )


def serve(sim: RunningSimulator, authpath: Path, *gateway_ids: str) -> TestClient:
    settings = Settings(
        server=ServerConfig(bind_address="127.0.0.1", stale_after_intervals=STALE_AFTER_INTERVALS),
        gateways=tuple(gateway(sim, gid, authpath) for gid in gateway_ids),
    )
    return TestClient(create_app(settings))


def summary(client: TestClient, gateway_id: str = "home") -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/gateways/{gateway_id}").json()
    return body


def polls(client: TestClient, gateway_id: str) -> int:
    return int(client.get("/stats").json()["gateways"][gateway_id]["polls"])


def active(client: TestClient, gateway_id: str = "home") -> str | None:
    body = client.get("/api/gateways").json()["gateways"]
    entry = next(g for g in body if g["id"] == gateway_id)
    return entry["transport"]["active"] if entry["transport"] and entry["online"] else None


def switch_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == SWITCH_LOGGER]


def agrees_with_the_site(sim: RunningSimulator, data: dict[str, Any]) -> None:
    state = sim.gateway("home").app.state()
    assert data["power_w"] == {
        "site": pytest.approx(state.site.instant_power_w, abs=1),
        "battery": pytest.approx(state.battery.instant_power_w, abs=1),
        "load": pytest.approx(state.load.instant_power_w, abs=1),
        "solar": pytest.approx(state.solar.instant_power_w, abs=1),
    }
    assert data["soe"]["percent_raw"] == pytest.approx(state.soe_raw_percent, abs=0.1)


@contextlib.contextmanager
def cleared_afterwards(sim: RunningSimulator) -> Iterator[None]:
    try:
        yield
    finally:
        sim.clear_faults()


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("kind", TEDAPI_FAULTS)
def test_tedapi_fails_fleetapi_serves_then_tedapi_takes_back_over(
    sim: RunningSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.INFO, logger=SWITCH_LOGGER)
    with serve(sim, tmp_path, "home") as client:
        wait_until(lambda: active(client) == "tedapi", 30)
        assert client.get("/health").json()["status"] == "healthy"
        with watching(client) as watch, cleared_afterwards(sim):
            faulted = time.monotonic()
            for fault in TEDAPI_FAULTS[kind]:
                sim.set_fault("home", fault)
            wait_until(lambda: active(client) == "fleetapi", 20)
            took = time.monotonic() - faulted
            body = summary(client)
            assert body["data"]["transport"] == "fleetapi"  # the data says where it came from
            agrees_with_the_site(sim, body["data"])
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "degraded"
            (entry,) = health.json()["gateways"]
            assert entry["transport"] == "fleetapi"
            assert entry["degraded"] == ["on fallback transport fleetapi (preferred: tedapi)"]
            links = body["transport"]["transports"]
            assert links[0]["state"] == "failing" and links[0]["next_probe"] is not None
            assert links[1]["state"] == "ok" and body["transport"]["failovers"] == 1
            sim.clear_faults("home")
            wait_until(lambda: active(client) == "tedapi", 20)
            body = summary(client)
            assert body["data"]["transport"] == "tedapi"
            agrees_with_the_site(sim, body["data"])
            assert (body["transport"]["failovers"], body["transport"]["recoveries"]) == (1, 1)
            wait_until(lambda: client.get("/health").json()["status"] == "healthy", 10)
    lines = switch_lines(caplog)
    assert len(lines) == 2, lines  # each switch logged once
    assert lines[0].startswith("gateway home: transport tedapi -> fleetapi (failover after 2 ")
    assert lines[1] == (
        "gateway home: transport fleetapi -> tedapi (recovered: tedapi answered a probe well)"
    )
    # FleetAPI served within N intervals of the first failed poll (+ a hung call's timeout).
    assert took <= (FAILOVER_AFTER + 1) * (INTERVAL + 2 * TIMEOUT) + 1.0, took
    gap = watch.longest_gap()
    print(f"{kind}: fleetapi after {took:.2f} s; oldest data served {gap:.2f} s")
    assert gap < STALE_LIMIT, gap  # no data gap longer than the stale limit


DEFAULT_STALE_LIMIT = GatewayConfig.model_fields["poll_interval"].default * (
    ServerConfig.model_fields["stale_after_intervals"].default
)


@pytest.mark.usefixtures("trusted")
def test_each_tedapi_fault_fails_over_within_the_stale_limit_at_default_settings(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """The default interval (5 s), call timeout (5 s), failover_after (3) and stale limit
    (3 intervals): a hung or refused TEDAPI is cut off in time for the Fleet API to serve
    before the newest data turns stale."""
    with cleared_afterwards(sim):
        gateways = tuple(gateway(sim, site.gateway_id, tmp_path, {}) for site in FAULTED_SITES)
        assert all(g.poll_interval == 5.0 and g.failover_after == 3 for g in gateways)
        settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=gateways)
        ids = [g.id for g in gateways]
        on = lambda client, name: all(active(client, gid) == name for gid in ids)  # noqa: E731
        with TestClient(create_app(settings)) as client:
            wait_until(lambda: on(client, "tedapi"), 30)
            with watching(client) as watch:
                for kind, faults in TEDAPI_FAULTS.items():
                    for fault in faults:
                        sim.set_fault(f"gw-{kind}", fault)
                wait_until(lambda: on(client, "fleetapi"), 4 * DEFAULT_STALE_LIMIT)
                time.sleep(0.3)  # a sample after the last switch
            gaps = {gid: round(watch.longest_gap(gid), 2) for gid in ids}
            print(f"oldest data served per fault (stale limit {DEFAULT_STALE_LIMIT:g} s): {gaps}")
            assert all(gap <= DEFAULT_STALE_LIMIT for gap in gaps.values()), gaps
            for gid in ids:
                assert summary(client, gid)["data"]["transport"] == "fleetapi"


@pytest.mark.usefixtures("trusted")
def test_solar_only_answer_is_degraded_and_fails_over_but_not_on_a_solar_only_site(
    sim: RunningSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SWITCH_LOGGER)
    with serve(sim, tmp_path, "home", "sunny") as client:
        wait_until(lambda: active(client) == "tedapi" and active(client, "sunny") == "tedapi", 30)
        sim.set_fault("home", Fault(kind="solar_only"))
        sim.set_fault("sunny", Fault(kind="solar_only"))
        sunny_polls = polls(client, "sunny")
        try:
            wait_until(lambda: active(client) == "fleetapi", 20)
            body = summary(client)
            assert body["data"]["transport"] == "fleetapi" and body["degraded"] is False
            agrees_with_the_site(sim, body["data"])  # the Fleet API still has the meters
            first = next(line for line in switch_lines(caplog) if "home" in line)
            assert "battery and grid meter missing on a site with a battery" in first
            # the solar-only site has had polls under the fault
            wait_until(lambda: polls(client, "sunny") >= sunny_polls + 3, 20)
            sunny = summary(client, "sunny")
            assert sunny["degraded"] is False and sunny["transport"]["active"] == "tedapi"
            assert sunny["transport"]["failovers"] == 0
            assert sunny["data"]["power_w"] is None  # no battery, no grid meter: unknown
        finally:
            sim.clear_faults()
        wait_until(lambda: active(client) == "tedapi", 20)
    assert not [line for line in switch_lines(caplog) if "sunny" in line]


def test_degraded_answer_on_the_only_transport_is_served_flagged(sim: RunningSimulator) -> None:
    """A single-mode TEDAPI gateway in the 'solar only' state: served, `degraded`, and
    /health says why (200 degraded)."""
    gw = sim.gateway("home")
    config = GatewayConfig(
        id="home",
        name="home",
        host=gw.host,
        gw_pwd=SecretStr(gw.config.gw_pwd),
        poll_interval=INTERVAL,
        timeout=TIMEOUT,
    )
    settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=(config,))
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/health").json()["status"] == "healthy", 30)
        sim.set_fault("home", Fault(kind="solar_only"))
        try:
            wait_until(lambda: summary(client)["degraded"] is True, 10)
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "degraded"
            (reason,) = health.json()["gateways"][0]["degraded"]
            assert reason.startswith("degraded data from tedapi: battery and grid meter missing")
        finally:
            sim.clear_faults()
        wait_until(lambda: client.get("/health").json()["status"] == "healthy", 10)
        assert summary(client)["degraded"] is False


PW3 = replace(SiteConfig.for_index(2), gateway_id="pw3", powerwalls=1, powerwall_kind="powerwall3")


@pytest.fixture
def pw3_sim() -> Iterator[RunningSimulator]:
    with running_simulator([PW3], app_factory=frozen_gateway, wifi=True) as running:
        yield running


def test_pw3_v1r_on_the_lan_fails_over_to_wifi_tedapi_and_back(
    pw3_sim: RunningSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The wired LAN with v1r preferred, the gateway's Wi-Fi TEDAPI as the fallback (one site
    on two ports): the LAN refuses, TEDAPI over Wi-Fi serves; the LAN returns, v1r again."""
    caplog.set_level(logging.INFO, logger=SWITCH_LOGGER)
    key = write_private_key(rsa_key("owner"), tmp_path / "tedapi_rsa_private.pem")
    body = {"public_key": public_pem(rsa_key("owner")).decode(), "verified": True}
    admin(pw3_sim, "POST", "/gateways/pw3/v1r/keys", body)
    gw = pw3_sim.gateway("pw3")
    assert gw.wifi_host is not None
    config = GatewayConfig(
        id="pw3",
        name="pw3",
        host=gw.host,
        password=SecretStr(gw.config.customer_password),
        rsa_key_path=str(key),
        gw_pwd=SecretStr(gw.config.gw_pwd),
        wifi_host=gw.wifi_host,
        transports=("v1r", "tedapi"),
        poll_interval=INTERVAL,
        timeout=TIMEOUT,
        failover_after=FAILOVER_AFTER,
        recovery_probe=1.0,
    )
    settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=(config,))
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: active(client, "pw3") == "v1r", 30)
        assert pw3_sim.request_counts("pw3").get("/tedapi/v1r", 0) > 0
        # a 0.5 s timeout can time out on a busy machine before the fault: judge from here
        earlier = len(switch_lines(caplog))
        pw3_sim.set_fault("pw3", Fault(kind="refused"))  # the wired LAN goes away
        try:
            wait_until(lambda: active(client, "pw3") == "tedapi", 20)
            wifi = pw3_sim.request_counts("pw3", wifi=True)
            assert wifi.get("/tedapi/v1", 0) > 0
            data = summary(client, "pw3")["data"]
            state = pw3_sim.gateway("pw3").app.state()
            assert data["transport"] == "tedapi"
            assert data["power_w"]["solar"] == pytest.approx(state.solar.instant_power_w, abs=1)
        finally:
            pw3_sim.clear_faults("pw3")
        wait_until(lambda: active(client, "pw3") == "v1r", 20)
    lines = switch_lines(caplog)[earlier:]
    assert [line.split(" (")[0] for line in lines][:2] == [
        "gateway pw3: transport v1r -> tedapi",
        "gateway pw3: transport tedapi -> v1r",
    ]
