"""Events over MQTT to a real mosquitto: every event on `<prefix>/events` and the gateway's
on `<prefix>/gateway/<id>/events` (never retained), and a Home Assistant `event` entity per
gateway in its device discovery."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.demo import DEMO_SITES
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.settings.event_kinds import EVENT_KINDS
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.demo_readers import demo_gateways
from tests.waiting import wait_until

from .conftest import Broker, Recorder

pytestmark = pytest.mark.integration

CONFIG = "homeassistant/device/pypowerwall_gw_cabin/config"


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(DEMO_SITES, admin=False) as running:
        yield running


def test_events_reach_the_broker_and_home_assistant_has_an_event_entity(
    sim: RunningSimulator, broker: Broker, recorder: Recorder
) -> None:
    server = ServerConfig(bind_address="127.0.0.1", mqtt_host="127.0.0.1", mqtt_port=broker.port)
    settings = Settings(server=server, gateways=demo_gateways(sim, 1.0))
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/health").json()["status"] == "healthy", 30)
        wait_until(lambda: recorder.latest(CONFIG) is not None, 10)
        sim.set_fault("cabin", Fault(kind="grid_outage"))
        wait_until(lambda: recorder.latest("pypowerwall/gateway/cabin/events") is not None, 10)
        api = client.get("/api/events", params={"gateway": "cabin"}).json()["events"]

    everything = [m for m in recorder.messages if m.topic == "pypowerwall/events"]
    gateway = [m for m in recorder.messages if m.topic == "pypowerwall/gateway/cabin/events"]
    assert len(everything) == len(gateway) == 1
    assert not everything[0].retain and not gateway[0].retain
    payload = json.loads(gateway[0].payload)
    assert payload["event_type"] == "grid_outage"
    assert {k: v for k, v in payload.items() if k != "event_type"} == api[0]

    component = json.loads(recorder.latest(CONFIG) or b"{}")["cmps"]["events"]
    assert component["p"] == "event"
    assert component["state_topic"] == "pypowerwall/gateway/cabin/events"
    assert component["event_types"] == list(EVENT_KINDS)
