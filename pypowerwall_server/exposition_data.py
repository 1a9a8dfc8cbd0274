"""What /metrics reports besides the hub's readings: the server's own counts and the poll
durations, kept without prometheus-client (exposition.py loads it on the first scrape)."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from pypowerwall_server.request_stats import RequestStats

POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # seconds


@dataclass
class ServerCounts:
    """What the server knows about itself besides the gateways (read when scraped)."""

    requests: RequestStats
    websocket_clients: Callable[[], int | None]
    mqtt_connected: Callable[[], bool | None] = lambda: None  # None: MQTT is off
    mqtt_published: Callable[[], int | None] = lambda: None


class PollDurations:
    """Successful polls' durations per gateway, counted in POLL_BUCKETS (a histogram)."""

    def __init__(self, buckets: tuple[float, ...] = POLL_BUCKETS) -> None:
        self.buckets = buckets
        self.counts: dict[str, list[int]] = {}  # per bucket, the last one +Inf (not cumulative)
        self.sums: dict[str, float] = {}

    def observe(self, gateway_id: str, seconds: float) -> None:
        counts = self.counts.get(gateway_id)
        if counts is None:
            counts = self.counts[gateway_id] = [0] * (len(self.buckets) + 1)
        counts[bisect.bisect_left(self.buckets, seconds)] += 1  # le: upper bounds included
        self.sums[gateway_id] = self.sums.get(gateway_id, 0.0) + seconds
