"""MQTT at scale: K simulated gateways on one server publishing to a local mosquitto.
Latency is from a Snapshot's creation (its `updated_at` in the state JSON, server clock) to
its first receipt by a subscriber on this machine (so: publisher, broker and delivery), over
an observation window; the server's CPU and RSS over the same window. A state published
again for the same Snapshot (a failed poll changes `last_error`, not the data) is counted
once: its age is not the publishing's latency."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks import stats
from benchmarks.footprint import MIB
from benchmarks.procs import Child, cpu_percent, http_get, sample, wait_until

STATE_TOPICS = "pypowerwall/gateway/+/state"


class LatencyProbe:
    def __init__(self, port: int) -> None:
        self.latencies_ms: list[float] = []
        self.repeats = 0  # states of a Snapshot already received
        self._seen: set[tuple[str, float]] = set()
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(STATE_TOPICS)
        self.client.connect("127.0.0.1", port)

    def __enter__(self) -> LatencyProbe:
        self.client.loop_start()
        return self

    def __exit__(self, *_: object) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        received = time.time()
        updated_at = orjson.loads(msg.payload).get("updated_at")
        if isinstance(updated_at, float | int):
            with self.lock:
                if (msg.topic, updated_at) in self._seen:
                    self.repeats += 1
                    return
                self._seen.add((msg.topic, updated_at))
                self.latencies_ms.append((received - updated_at) * 1000.0)

    def take(self) -> tuple[list[float], int]:
        """The latencies and the number of repeated states since the last take."""
        with self.lock:
            taken, self.latencies_ms = self.latencies_ms, []
            repeats, self.repeats = self.repeats, 0
        return taken, repeats


def all_fresh(base_url: str, gateways: int) -> bool:
    status, body = http_get(base_url + "/api/aggregate/status", timeout=5.0)
    return status == 200 and orjson.loads(body).get("fresh") == gateways


def measure_latency(
    server: Child, base_url: str, broker_port: int, gateways: int, seconds: float
) -> dict[str, Any]:
    wait_until(server, lambda: all_fresh(base_url, gateways), 60 + gateways * 0.5)
    with LatencyProbe(broker_port) as probe:
        time.sleep(2.0)  # subscribed; the first poll round after that
        probe.take()
        before = sample(server.pid)
        time.sleep(seconds)
        after = sample(server.pid)
        latencies, repeats = probe.take()
    return {
        "gateways": gateways,
        "seconds": seconds,
        "states": len(latencies),
        "repeated_states": repeats,
        "latency_p50_ms": stats.median(latencies),
        "latency_p99_ms": stats.percentile(latencies, 99.0),
        "latency_max_ms": max(latencies, default=None),
        "cpu_percent": cpu_percent(before, after),
        "rss_mib": after.rss_bytes / MIB,
    }
