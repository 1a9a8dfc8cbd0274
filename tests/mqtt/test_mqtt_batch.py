"""A batch as 500 gateways make it (1,500 states) through the publisher's client to a real
mosquitto: every message arrives, in order per publisher, and the client never warns about
pending publish calls (it did once per message past 10: thousands of log lines a round)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.gateway.poller import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import LegacyOptions
from pypowerwall_server.mqtt.options import MqttOptions
from pypowerwall_server.mqtt.publisher import MqttPublisher, Outgoing
from tests.waiting import wait_until

from .conftest import Broker, Recorder

pytestmark = pytest.mark.integration
STATES = 1500


def test_mqtt_at_500_gateways_publishes_a_batch_without_pending_call_warnings(
    broker: Broker, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hub = Hub([GatewayState("home", "Home", "local", 1.0)], 3.0, lambda: 0.0)
    options = MqttOptions(host="127.0.0.1", port=broker.port)
    publisher = MqttPublisher(options, ReadModel(hub, LegacyOptions()), {"home": "Home"})
    batch = {f"bench/state/{i}": Outgoing(str(i).encode(), 0, False) for i in range(STATES)}

    async def send_one_batch() -> None:
        async with publisher._client() as client:
            publisher._outbox = dict(batch)
            publisher._outbox_ready.set()
            sender = asyncio.create_task(publisher._send(client))
            while publisher.published < STATES:
                await asyncio.sleep(0.01)
            sender.cancel()

    asyncio.run(asyncio.wait_for(send_one_batch(), 60))
    wait_until(lambda: len([t for t in recorder.topics() if t.startswith("bench/")]) == STATES, 30)
    received = [int(m.payload) for m in recorder.since(0.0) if m.topic.startswith("bench/")]
    assert received == list(range(STATES))  # in order
    assert not [r for r in caplog.records if "pending publish calls" in r.getMessage()]
