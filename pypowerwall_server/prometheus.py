"""Prometheus `/metrics`: every numeric row of the metrics table (metrics.py) per gateway and
battery unit, plus the server's own counts, in prometheus-client's exposition format.

Computed when scraped (never on the hot path), memoized per hub publish within one second,
so scrapers polling together cost one rendering. Unknown values are absent, never 0; so are
a stale gateway's (the freshness rule, freshness.py): its `online` and `data_age` series
stay, which is how an alert sees it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric as PromMetric
from prometheus_client.registry import Collector

from pypowerwall_server.exposition_data import PollDurations, ServerCounts
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.metrics import (
    BATTERY_METRICS,
    GATEWAY_METRICS,
    CounterGuard,
    GatewayView,
    Metric,
    Value,
    battery_id,
    gateway_view,
    values_of,
)
from pypowerwall_server.models import Readings

S = TypeVar("S")
PREFIX = "pypowerwall"
# Prometheus base-unit names for the table's units.
UNIT_SUFFIX = {
    "W": "watts",
    "Wh": "watt_hours",
    "%": "percent",
    "h": "hours",
    "s": "seconds",
    "V": "volts",
    "A": "amperes",
    "Hz": "hertz",
    "°C": "celsius",
}


def metric_name(metric: Metric[S], subject: str = "") -> str:
    """pypowerwall_[battery_]<key>[_<unit>]: counters get `_total` from the exposition."""
    suffix = UNIT_SUFFIX.get(metric.unit or "")
    parts = [PREFIX, subject, metric.key, suffix or ""]
    return "_".join(p for p in parts if p)


class TableCollector(Collector):
    def __init__(self, hub: Hub, server: ServerCounts, polls: PollDurations) -> None:
        self.hub = hub
        self.server = server
        self.poll_durations = polls
        self.guard = CounterGuard()  # a Prometheus counter must not go backwards either

    def collect(self) -> Iterator[PromMetric]:
        now = self.hub.clock()
        states = self.hub.states()
        views = [(s.gateway_id, gateway_view(s, now)) for s in states]
        shown = [
            (gid, view if self.hub.freshness.is_fresh(state, now) else _withheld(view))
            for state, (gid, view) in zip(states, views, strict=True)
        ]
        yield from self._rows(GATEWAY_METRICS, "", ["gateway"], self._gateway_values(shown))
        yield from self._rows(
            BATTERY_METRICS, "battery", ["gateway", "battery"], self._batteries(shown)
        )
        yield self._info(views)
        yield from self._polls(states)
        yield self._poll_durations()
        yield from self._server()

    def _gateway_values(
        self, views: Sequence[tuple[str, GatewayView]]
    ) -> list[tuple[list[str], dict[str, Value]]]:
        return [([gid], values_of(GATEWAY_METRICS, v, gid, self.guard)) for gid, v in views]

    def _batteries(
        self, views: Sequence[tuple[str, GatewayView]]
    ) -> list[tuple[list[str], dict[str, Value]]]:
        return [
            ([gid, battery_id(i, unit)], values_of(BATTERY_METRICS, unit, gid, None))
            for gid, view in views
            for i, unit in enumerate(view.readings.batteries)
        ]

    def _rows(
        self,
        table: Sequence[Metric[S]],
        subject: str,
        labels: list[str],
        values: list[tuple[list[str], dict[str, Value]]],
    ) -> Iterator[PromMetric]:
        for metric in table:
            if not metric.numeric:
                continue
            name, doc = metric_name(metric, subject), _doc(metric)
            family: CounterMetricFamily | GaugeMetricFamily = (
                CounterMetricFamily(name, doc, labels=labels)
                if metric.counter
                else GaugeMetricFamily(name, doc, labels=labels)
            )
            for label_values, row in values:
                value = row.get(metric.key)
                if isinstance(value, int | float):  # bool too: 1/0; None stays absent
                    family.add_metric(label_values, float(value))
            yield family

    @staticmethod
    def _info(views: Sequence[tuple[str, GatewayView]]) -> InfoMetricFamily:
        info = InfoMetricFamily(
            f"{PREFIX}_gateway", "firmware and connection mode", labels=["gateway"]
        )
        for gid, view in views:
            facts = {"mode": view.mode or "", "firmware": view.readings.firmware_version or ""}
            info.add_metric([gid], facts)
        return info

    @staticmethod
    def _polls(states: Sequence[GatewayState]) -> Iterator[PromMetric]:
        polls = CounterMetricFamily(f"{PREFIX}_polls", "polls attempted", labels=["gateway"])
        failed = CounterMetricFamily(f"{PREFIX}_poll_failures", "polls failed", labels=["gateway"])
        for state in states:
            polls.add_metric([state.gateway_id], state.polls)
            failed.add_metric([state.gateway_id], state.failures)
        yield polls
        yield failed

    def _poll_durations(self) -> HistogramMetricFamily:
        polls = self.poll_durations
        family = HistogramMetricFamily(
            f"{PREFIX}_poll_duration_seconds", "duration of successful polls", labels=["gateway"]
        )
        bounds = [repr(float(b)) for b in polls.buckets] + ["+Inf"]  # as Histogram writes le
        for gateway_id, counts in polls.counts.items():
            cumulative = [sum(counts[: i + 1]) for i in range(len(counts))]
            family.add_metric(
                [gateway_id], list(zip(bounds, cumulative, strict=True)), polls.sums[gateway_id]
            )
        return family

    def _server(self) -> Iterator[PromMetric]:
        requests = CounterMetricFamily(
            f"{PREFIX}_http_requests", "HTTP requests by route", labels=["route"]
        )
        errors = CounterMetricFamily(
            f"{PREFIX}_http_errors", "HTTP answers >= 400 by route", labels=["route"]
        )
        for route, count in self.server.requests.as_dict().items():
            requests.add_metric([route], count["requests"])
            errors.add_metric([route], count["errors"])
        yield requests
        yield errors
        clients = self.server.websocket_clients()
        if clients is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_websocket_clients", "connected WebSocket clients", value=clients
            )
        connected = self.server.mqtt_connected()
        if connected is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_mqtt_connected", "1 while connected to the broker", value=connected
            )
        published = self.server.mqtt_published()
        if published is not None:
            yield CounterMetricFamily(
                f"{PREFIX}_mqtt_published", "MQTT messages published", value=published
            )


def _withheld(view: GatewayView) -> GatewayView:
    """A stale gateway: its connection rows only, none of its data."""
    return replace(view, readings=Readings())


def _doc(metric: Metric[S]) -> str:
    return f"{metric.name} ({metric.unit})" if metric.unit else metric.name


class Rendering:
    """The registry behind /metrics (built on the first scrape: exposition.py)."""

    def __init__(self, hub: Hub, server: ServerCounts, polls: PollDurations) -> None:
        self.hub = hub
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(TableCollector(hub, server, polls))
        self._memo: tuple[tuple[int, int], bytes] | None = None

    def render(self) -> tuple[bytes, str]:
        key = (self.hub.generation, int(time.monotonic()))
        if self._memo is None or self._memo[0] != key:
            self._memo = (key, generate_latest(self.registry))
        return self._memo[1], CONTENT_TYPE_LATEST
