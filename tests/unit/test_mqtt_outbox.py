"""The MQTT publisher's outbox without a broker: newest wins, bounded by the topics, stale
gateways go offline without a state, counters that drop are withheld (null, never 0)."""

from __future__ import annotations

import orjson
import pytest

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import (
    GatewayAttributes,
    LegacyOptions,
    MeterEnergy,
    MeterPower,
    Readings,
    Snapshot,
)
from pypowerwall_server.mqtt.options import MqttOptions
from pypowerwall_server.mqtt.publisher import MqttPublisher

ATTRS = GatewayAttributes("local", False, False, False, False, "off", None, "0")
STATE_TOPIC = "pypowerwall/gateway/home/state"
AVAILABILITY = "pypowerwall/gateway/home/availability"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def polled(taken_at: float, grid_w: float, imported_wh: float | None) -> GatewayState:
    readings = Readings(
        power_w=MeterPower(grid_w, 0.0, grid_w, 0.0),
        energy_wh={"site": MeterEnergy(imported_wh, None)},
    )
    snapshot = Snapshot("home", taken_at, {}, {}, ATTRS, readings)
    return GatewayState("home", "Home", "local", 1.0, snapshot=snapshot, online=True)


@pytest.fixture
def setup() -> tuple[MqttPublisher, Hub, Clock]:
    clock = Clock()
    hub = Hub([GatewayState("home", "Home", "local", 1.0)], 3.0, clock)
    publisher = MqttPublisher(
        MqttOptions(host="127.0.0.1"), ReadModel(hub, LegacyOptions()), {"home": "Home"}
    )
    return publisher, hub, clock


def published_state(publisher: MqttPublisher) -> dict[str, object]:
    state: dict[str, object] = orjson.loads(publisher.pending()[STATE_TOPIC].payload)
    return state


def test_newest_state_wins_and_the_outbox_stays_bounded(setup) -> None:
    publisher, hub, clock = setup
    publisher.queue_everything()
    topics = set(publisher.pending())
    for watts in range(100):
        clock.now += 1.0
        hub.publish(polled(clock.now, float(watts), 5000.0))
        publisher.queue_changes({"home"})
    assert set(publisher.pending()) == topics | {STATE_TOPIC}  # one message per topic
    assert published_state(publisher)["grid_power"] == 99.0
    assert publisher.pending()[AVAILABILITY].payload == b"online"


def test_a_counter_that_drops_is_withheld_not_zero(setup) -> None:
    publisher, hub, clock = setup
    for imported, shown in ((5000.0, 5000.0), (10.0, None), (5001.0, 5001.0), (None, None)):
        clock.now += 1.0
        hub.publish(polled(clock.now, 1.0, imported))
        publisher.queue_changes({"home"})
        assert published_state(publisher)["grid_import_energy"] == shown


def test_stale_gateway_goes_offline_and_publishes_no_state(setup) -> None:
    publisher, hub, clock = setup
    hub.publish(polled(clock.now, 1.0, 5000.0))
    publisher.queue_changes({"home"})
    publisher.queue_everything()  # as after a connect: the outbox starts over
    assert STATE_TOPIC in publisher.pending()
    clock.now += 3.5  # past 3 intervals of 1 s
    publisher.queue_everything()
    pending = publisher.pending()
    assert pending[AVAILABILITY].payload == b"offline"
    assert STATE_TOPIC not in pending  # stale data is not published as a state


def test_a_state_told_again_is_not_published_again(setup) -> None:
    """hub.updates() welcomes a slow subscriber back with every current state: those were
    published already (at 100 gateways they doubled the messages and their latency)."""
    publisher, hub, clock = setup
    hub.publish(polled(clock.now, 1.0, 5000.0))
    publisher.queue_changes({"home"})
    assert STATE_TOPIC in publisher.take_batch()
    publisher.queue_changes({"home"})  # the same state again
    assert STATE_TOPIC not in publisher.take_batch()
    clock.now += 1.0
    hub.publish(polled(clock.now, 2.0, 5000.0))
    publisher.queue_changes({"home"})
    assert STATE_TOPIC in publisher.take_batch()


def test_mqtt_at_500_gateways_the_site_state_goes_out_at_most_once_a_second() -> None:
    """It changes with every gateway's poll and costs a pass over all of them; the newest
    value still goes out once due."""
    clock = Clock()
    ids = ("home", "cabin")
    hub = Hub([GatewayState(g, g, "local", 1.0) for g in ids], 3.0, clock)
    publisher = MqttPublisher(
        MqttOptions(host="127.0.0.1"), ReadModel(hub, LegacyOptions()), {g: g for g in ids}
    )
    site_topic = publisher.topics.site_state

    def poll(gid: str, grid_w: float) -> None:
        state = polled(clock.now, grid_w, 5000.0)
        hub.publish(GatewayState(gid, gid, "local", 1.0, snapshot=state.snapshot, online=True))
        publisher.queue_changes({gid})

    poll("home", 100.0)
    poll("cabin", 50.0)
    assert site_topic in publisher.take_batch()  # the first goes out at once
    clock.now += 0.5
    poll("home", 200.0)
    assert site_topic not in publisher.take_batch()
    assert publisher._next_deadline() == pytest.approx(0.5)
    clock.now += 0.5
    publisher.queue_changes(())  # the deadline passed: what _produce does on waking
    site = orjson.loads(publisher.take_batch()[site_topic].payload)
    assert site["grid_power"] == 250.0  # the newest total
