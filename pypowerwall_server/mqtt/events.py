"""Events over MQTT (events/): every event on `<prefix>/events`, and a gateway's events on
`<prefix>/gateway/<id>/events` for its Home Assistant `event` entity. Both QoS 1, never
retained (an event happened once; a new subscriber must not see an old one as new).
Pure: topics, payloads and the discovery component."""

from __future__ import annotations

from typing import Any

import orjson

from pypowerwall_server.events.model import Event
from pypowerwall_server.mqtt.devices import Device, Topics
from pypowerwall_server.settings.event_kinds import EVENT_KINDS

EVENT_QOS = 1
COMPONENT_KEY = "events"


def all_events_topic(topics: Topics) -> str:
    return f"{topics.prefix}/events"


def gateway_events_topic(topics: Topics, gateway_id: str) -> str:
    return f"{topics.prefix}/gateway/{gateway_id}/events"


def event_messages(topics: Topics, event: Event) -> list[tuple[str, bytes]]:
    """(topic, payload) for one event: Home Assistant reads `event_type`; the rest are the
    event's attributes."""
    payload = orjson.dumps({"event_type": event.kind, **event.as_dict()})
    messages = [(all_events_topic(topics), payload)]
    if event.gateway is not None:
        messages.append((gateway_events_topic(topics, event.gateway), payload))
    return messages


def event_component(device: Device, topics: Topics) -> dict[str, Any]:
    """The gateway device's `event` entity (joins its `cmps` in discovery)."""
    assert device.gateway_id is not None
    return {
        "p": "event",
        "name": "Events",
        "unique_id": f"{device.node}_{COMPONENT_KEY}",
        "default_entity_id": f"event.{device.entity_base}_{COMPONENT_KEY}",
        "state_topic": gateway_events_topic(topics, device.gateway_id),
        "event_types": list(EVENT_KINDS),
        "value_template": "{{ value_json | tojson }}",
    }
