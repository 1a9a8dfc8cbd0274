"""Events end to end: the real pypowerwall polls the simulator, whose admin faults make
each condition; Apprise delivers each event to a real local webhook receiver within two
poll intervals (plus a little for a loaded machine), exactly once; flapping gives one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.integration.conftest import local_gateway
from tests.integration.webhook_receiver import WebhookReceiver
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

INTERVAL = 1.0
HOLD_DOWN = 0.5  # a condition gone for two polls in a row is over
# Flapping: longer than the test needs to flip the fault back on a loaded machine.
FLAP_HOLD_DOWN = 8.0
SLACK = 1.0  # delivery on a busy machine
WITHIN = 2 * INTERVAL + SLACK


@dataclass
class Setup:
    sim: RunningSimulator
    app: HotApp
    client: TestClient
    receiver: WebhookReceiver


def notify_settings(
    sim: RunningSimulator, urls: str, gateways: int = 2, hold_down: float = HOLD_DOWN
) -> Settings:
    server = ServerConfig(
        bind_address="127.0.0.1",
        notify_urls=SecretStr(urls),
        notify_events=("all",),
        notify_hold_down=hold_down,
    )
    configs = tuple(local_gateway(sim, i, INTERVAL) for i in range(gateways))
    return Settings(server=server, gateways=configs)


def serving(hold_down: float) -> Iterator[Setup]:
    sites = [SiteConfig.for_index(i, seed=11) for i in range(2)]
    with running_simulator(sites, admin=False) as sim, WebhookReceiver() as receiver:
        app = create_app(notify_settings(sim, receiver.url(), hold_down=hold_down))
        with TestClient(app) as client:
            wait_until(lambda: client.get("/health").json()["status"] == "healthy", 30)
            yield Setup(sim, app, client, receiver)


@pytest.fixture
def setup() -> Iterator[Setup]:
    yield from serving(HOLD_DOWN)


@pytest.fixture
def flapping() -> Iterator[Setup]:
    yield from serving(FLAP_HOLD_DOWN)


def grid_seen(app: HotApp, gid: str) -> str | None:
    snapshot = app.services.hub.get(gid).snapshot
    return None if snapshot is None else snapshot.readings.grid_status


def arrives(setup: Setup, kind: str, since: float, within: float = WITHIN) -> float:
    """Seconds from `since` to the one delivery of `kind` after it."""
    try:
        wait_until(lambda: [d for d in setup.receiver.of_kind(kind) if d.at >= since], within)
    except AssertionError:
        events = setup.client.get("/api/events").json()["events"]
        health = setup.client.get("/health").json()["events"]
        raise AssertionError(
            f"no {kind}: got {setup.receiver.titles()}; {events}; {health}"
        ) from None
    (delivery,) = [d for d in setup.receiver.of_kind(kind) if d.at >= since]
    return delivery.at - since


def test_each_event_kind_arrives_once_within_two_poll_intervals(setup: Setup) -> None:
    sim, receiver = setup.sim, setup.receiver
    home, other = sim.gateways[0].id, sim.gateways[1].id

    started = time.monotonic()
    sim.set_fault(home, Fault(kind="grid_outage"))
    arrives(setup, "grid_outage", started)
    started = time.monotonic()
    sim.clear_faults(home)
    arrives(setup, "grid_restored", started)

    started = time.monotonic()
    sim.set_fault(home, Fault(kind="alert", alert="BatteryFault"))
    arrives(setup, "alert_raised", started)
    started = time.monotonic()
    sim.clear_faults(home)
    arrives(setup, "alert_cleared", started)

    started = time.monotonic()
    sim.set_fault(home, Fault(kind="firmware", version="99.1.0 abcdef"))
    # The version is slow-tier data (read every few minutes, and after a control write):
    # ask for that poll, as a write would.
    assert setup.client.portal is not None
    setup.client.portal.call(setup.app.services.supervisor.refresh_slow_tier, home)
    arrives(setup, "firmware_changed", started)

    started = time.monotonic()
    sim.set_fault(home, Fault(kind="refused"))
    arrives(setup, "gateway_offline", started)
    sim.clear_faults(home)
    # The poller backs off while the gateway fails; the event follows its first good polls.
    wait_until(lambda: setup.app.services.hub.get(home).online, 30)
    arrives(setup, "gateway_online", started)  # within WITHIN of its first good poll

    started = time.monotonic()
    sim.set_fault(other, Fault(kind="wrong_password"))
    arrives(setup, "auth_failed", started)

    polls = setup.app.services.hub.get(home).polls
    wait_until(lambda: setup.app.services.hub.get(home).polls >= polls + 3, 10)
    counts = {title: receiver.titles().count(title) for title in receiver.titles()}
    assert all(count == 1 for count in counts.values()), counts
    body = receiver.of_kind("grid_outage")[0].body
    assert body["message"].startswith(f"Grid outage at {sim.gateways[0].id}: Powerwall at ")
    assert body["type"] == "failure"  # Apprise's word for critical


def test_flapping_grid_gives_one_notification(flapping: Setup) -> None:
    setup = flapping
    sim, app = setup.sim, setup.app
    home = sim.gateways[0].id
    for _ in range(4):  # down, up, down again well within the hold-down
        sim.set_fault(home, Fault(kind="grid_outage"))
        wait_until(lambda: grid_seen(app, home) == "DOWN", 5)
        sim.clear_faults(home)
        wait_until(lambda: grid_seen(app, home) == "UP", 5)
        assert not setup.receiver.of_kind("grid_restored")
    wait_until(lambda: setup.receiver.of_kind("grid_restored"), FLAP_HOLD_DOWN + WITHIN)
    assert len(setup.receiver.of_kind("grid_outage")) == 1
    (restored,) = setup.receiver.of_kind("grid_restored")
    assert "(it went down 4 times)" in restored.body["message"]
    events = setup.client.get("/api/events", params={"kind": "grid_restored"}).json()["events"]
    assert [e["count"] for e in events] == [4]


def test_a_receiver_that_is_down_gets_bounded_retries_and_the_server_stays_healthy() -> None:
    sites = [SiteConfig.for_index(0, seed=11)]
    with running_simulator(sites, admin=False) as sim:
        with WebhookReceiver() as receiver:
            url = receiver.url()  # a port that is closed once the receiver stops
        app = create_app(notify_settings(sim, url, gateways=1))
        assert app.services.events is not None and app.services.events.notifier is not None
        notifier = app.services.events.notifier
        notifier.backoff = (0.1, 0.2)  # seconds, not the default's minutes
        with TestClient(app) as client:
            wait_until(lambda: client.get("/health").json()["status"] == "healthy", 30)
            sim.set_fault(sim.gateways[0].id, Fault(kind="grid_outage"))

            def gave_up() -> bool:
                (url_state,) = client.get("/health").json()["events"]["notifications"]["urls"]
                return bool(url_state["failed"] == 1)

            wait_until(gave_up, 15)
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "healthy"
            events = health.json()["events"]
            (url_state,) = events["notifications"]["urls"]
            assert url_state["retries"] == notifier.attempts - 1
            assert url_state["failing"] and events["notifications_failing"]
            assert url_state["url"] == "#1 (json)"
            assert str(receiver.port) not in health.text
            assert client.get("/aggregates").status_code == 200
