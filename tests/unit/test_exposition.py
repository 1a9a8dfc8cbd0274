"""/metrics without prometheus-client until the first scrape (exposition.py): poll durations
counted from the start are rendered exactly as prometheus-client's own Histogram writes them
(its `_created` series aside)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

from pypowerwall_server.exposition import Exposition
from pypowerwall_server.exposition_data import POLL_BUCKETS, ServerCounts
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.request_stats import RequestStats

NAME = "pypowerwall_poll_duration_seconds"
# On a bucket's bound, between bounds, below the first and above the last.
OBSERVED = {"home": [0.05, 0.07, 0.3, 2.0, 45.0], "cabin": [0.01, 10.0]}


def histogram_lines(text: bytes) -> list[str]:
    return sorted(
        line
        for line in text.decode().splitlines()
        if line.startswith(NAME) and not line.startswith(NAME + "_created")
    )


def test_poll_durations_render_as_prometheus_clients_histogram() -> None:
    registry = CollectorRegistry()
    reference = Histogram(NAME, "d", ["gateway"], buckets=POLL_BUCKETS, registry=registry)
    hub = Hub([GatewayState(g, g, "tedapi", 5.0) for g in OBSERVED], stale_after_intervals=3)
    exposition = Exposition(hub, ServerCounts(RequestStats(), lambda: None))
    for gateway_id, durations in OBSERVED.items():
        for seconds in durations:
            reference.labels(gateway_id).observe(seconds)
            exposition.polls.observe(gateway_id, seconds)
    body, content_type = exposition.render()
    assert content_type == CONTENT_TYPE_LATEST
    ours = histogram_lines(body)
    assert ours == histogram_lines(generate_latest(registry))
    assert f'{NAME}_bucket{{gateway="home",le="0.05"}} 1.0' in ours  # the bound is included
    assert f'{NAME}_count{{gateway="home"}} 5.0' in ours
