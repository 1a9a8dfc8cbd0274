"""The devices this server shows Home Assistant, their topics and their state payloads.

Devices: one per gateway, one per battery unit (linked to its gateway), and a site total
when there are several gateways. Topics (QoS and retain in publisher.py):

    <prefix>/status                               server availability (LWT)
    <prefix>/gateway/<id>/availability            online while the gateway's data is fresh
    <prefix>/gateway/<id>/state                   JSON: one key per metric, null = unknown
    <prefix>/gateway/<id>/battery/<serial>/state
    <prefix>/site/state
    <discovery_prefix>/device/<node>/config       Home Assistant device discovery
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import orjson

from pypowerwall_server.metrics import (
    BATTERY_METRICS,
    GATEWAY_METRICS,
    SITE_METRICS,
    Metric,
    Value,
    battery_id,
)
from pypowerwall_server.models import BatteryUnit

S = TypeVar("S")
DeviceKind = Literal["gateway", "battery", "site"]
ATTRIBUTES_KEY = "attributes"  # state JSON: each row's extra attributes, by key
UPDATED_AT_KEY = "updated_at"  # state JSON: the Snapshot's time


@dataclass(frozen=True)
class Topics:
    prefix: str
    discovery_prefix: str

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    @property
    def homeassistant_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    @property
    def discovery_wildcard(self) -> str:
        return f"{self.discovery_prefix}/device/+/config"

    @property
    def site_state(self) -> str:
        return f"{self.prefix}/site/state"

    def availability(self, gateway_id: str) -> str:
        return f"{self.prefix}/gateway/{gateway_id}/availability"

    def config(self, node: str) -> str:
        return f"{self.discovery_prefix}/device/{node}/config"

    def gateway_of_state_topic(self, topic: str) -> str | None:
        """The gateway id in one of our gateway or battery state topics."""
        parts = topic.split("/")
        prefix_parts = self.prefix.split("/")
        rest = parts[len(prefix_parts) :]
        if parts[: len(prefix_parts)] != prefix_parts or len(rest) < 3 or rest[0] != "gateway":
            return None
        return rest[1]


@dataclass(frozen=True)
class Device:
    kind: DeviceKind
    node: str  # discovery node id and identifier: unique per installation (prefix)
    name: str
    state_topic: str
    entity_base: str  # default_entity_id is <platform>.<entity_base>_<key>
    gateway_id: str | None = None  # gateways and their batteries
    via: str | None = None  # the gateway's node, for a battery
    serial: str | None = None

    @property
    def metrics(self) -> Sequence[Metric[Any]]:
        tables: dict[DeviceKind, Sequence[Metric[Any]]] = {
            "gateway": GATEWAY_METRICS,
            "battery": BATTERY_METRICS,
            "site": SITE_METRICS,
        }
        return tables[self.kind]


def gateway_device(topics: Topics, gateway_id: str, name: str) -> Device:
    return Device(
        kind="gateway",
        node=f"{topics.prefix}_gw_{gateway_id}",
        name=name,
        state_topic=f"{topics.prefix}/gateway/{gateway_id}/state",
        entity_base=_slug(f"{topics.prefix}_{gateway_id}"),
        gateway_id=gateway_id,
    )


def battery_device(topics: Topics, gateway: Device, index: int, unit: BatteryUnit) -> Device:
    assert gateway.gateway_id is not None
    bid = battery_id(index, unit)
    return Device(
        kind="battery",
        node=f"{gateway.node}_battery_{_slug(bid)}",
        name=f"{gateway.name} battery {bid}",
        state_topic=f"{topics.prefix}/gateway/{gateway.gateway_id}/battery/{bid}/state",
        entity_base=f"{gateway.entity_base}_battery_{_slug(bid)}",
        gateway_id=gateway.gateway_id,
        via=gateway.node,
        serial=unit.serial,
    )


def site_device(topics: Topics) -> Device:
    return Device(
        kind="site",
        node=f"{topics.prefix}_site",
        name="Powerwall site total",
        state_topic=topics.site_state,
        entity_base=_slug(f"{topics.prefix}_site"),
    )


def state_payload(
    metrics: Sequence[Metric[S]],
    subject: S,
    values: Mapping[str, Value],
    updated_at: float | None = None,
) -> bytes:
    """One JSON object: each row's value (null = unknown), the rows' attributes, and when
    the data was taken (epoch seconds, server clock; null for the site total)."""
    attributes = {}
    for metric in metrics:
        if metric.attributes is not None:
            extra = metric.attributes(subject)
            if extra is not None:
                attributes[metric.key] = extra
    return orjson.dumps({**values, ATTRIBUTES_KEY: attributes, UPDATED_AT_KEY: updated_at})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
