"""Events as data on the simulator: GET /api/events (since an id or a time, a gateway,
kinds; 400 for bad input), /ws/events (missed events first, then live; the streams' origin
check), and no notification URL secret in logs, /health, /stats, /help, the console or
--check-config (not even in urllib3's debug lines of the sends: the secret path in the
log was a defect). A restart with a store does not announce a known outage again."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pypowerwall_server.app import create_app
from pypowerwall_server.cli import main
from pypowerwall_server.events.sqlite_store import SqliteEventStore
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.integration.conftest import local_gateway
from tests.integration.webhook_receiver import WebhookReceiver
from tests.unit.events.sqlite_runner import FileRunner
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

TOKEN = "tok-api-s3cret"


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator([SiteConfig.for_index(0, seed=5)], admin=False) as running:
        yield running


def settings_for(sim: RunningSimulator, url: str) -> Settings:
    gateway = local_gateway(sim, 0, 0.5)
    server = ServerConfig(
        bind_address="127.0.0.1", notify_urls=SecretStr(url), notify_hold_down=0.4
    )
    return Settings(server=server, gateways=(gateway,))


def kinds_of(client: TestClient, **params: str) -> list[str]:
    response = client.get("/api/events", params=params)
    assert response.status_code == 200, response.text
    return [event["kind"] for event in response.json()["events"]]


def test_events_in_the_api_and_the_websocket_and_no_secret_anywhere(
    sim: RunningSimulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    gid = sim.gateways[0].id
    # urllib3 at DEBUG (as with --debug) logs each request line: the webhook's path too.
    urllib3 = caplog.at_level(logging.DEBUG, logger="urllib3")
    with WebhookReceiver() as receiver, caplog.at_level(logging.DEBUG), urllib3:
        url = receiver.url(f"/hook/{TOKEN}")
        with TestClient(create_app(settings_for(sim, url))) as client:
            wait_until(lambda: client.get("/health").json()["status"] == "healthy", 30)
            sim.set_fault(gid, Fault(kind="grid_outage"))
            wait_until(lambda: kinds_of(client) == ["grid_outage"], 10)
            (outage,) = client.get("/api/events").json()["events"]
            assert kinds_of(client, since=str(outage["id"])) == []
            assert kinds_of(client, since="2000-01-01T00:00:00Z") == ["grid_outage"]
            assert kinds_of(client, gateway=gid, kind="grid_outage,alert_raised") == ["grid_outage"]
            assert kinds_of(client, kind="soe_low") == []
            for bad in ({"since": "yesterday"}, {"kind": "nope"}, {"gateway": "nope"}):
                response = client.get("/api/events", params=bad)
                assert response.status_code == 400 and "error" in response.json(), bad

            with client.websocket_connect("/ws/events?since=0") as ws:
                missed = ws.receive_json()
                assert missed["type"] == "event" and missed["data"] == outage
                sim.set_fault(gid, Fault(kind="alert", alert="BatteryFault"))
                live = ws.receive_json()
                assert live["data"]["kind"] == "alert_raised"
                assert live["data"]["id"] == outage["id"] + 1
            with (
                pytest.raises(WebSocketDisconnect),
                client.websocket_connect(
                    "/ws/events", headers={"origin": "http://evil.example"}
                ) as ws,
            ):
                ws.receive_json()

            wait_until(lambda: len(receiver.deliveries) == 2, 10)
            pages = [client.get(path).text for path in ("/health", "/stats", "/help", "/console")]
            assert "#1 (json)" in pages[0]
    assert receiver.deliveries[0].path == f"/hook/{TOKEN}"  # the real URL was used
    for text in pages:  # not even the receiver's address
        assert TOKEN not in text and str(receiver.port) not in text
    assert TOKEN not in caplog.text

    capsys.readouterr()
    environ = {"PW_NOTIFY_URLS": url}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        assert main(["--demo", "--check-config"]) == 0
    printed = capsys.readouterr()
    assert "notify_urls: ***" in printed.out
    assert TOKEN not in printed.out + printed.err


def test_a_restart_with_a_store_does_not_announce_a_known_outage_again(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    gid = sim.gateways[0].id
    runner = FileRunner(tmp_path / "history.db")

    def serve() -> TestClient:
        store = SqliteEventStore(runner)
        runner.open()
        return TestClient(create_app(settings_for(sim, "json://127.0.0.1:9/x"), event_store=store))

    sim.set_fault(gid, Fault(kind="grid_outage"))
    with serve() as first:
        wait_until(lambda: kinds_of(first) == ["grid_outage"], 15)
    with serve() as second:
        polls = second.app.services.hub  # type: ignore[attr-defined]
        wait_until(lambda: polls.get(gid).polls >= 4, 15)
        assert kinds_of(second) == ["grid_outage"]  # remembered, not announced again
        sim.clear_faults(gid)
        wait_until(lambda: kinds_of(second) == ["grid_outage", "grid_restored"], 15)
        ids = [e["id"] for e in second.get("/api/events").json()["events"]]
        assert ids == [1, 2]
