"""MQTT part: hot-path throughput with MQTT publishing on vs off, in the same run.

Two servers of ours, each polling its own simulated gateway every second; one publishes to
a local mosquitto (Debian package), the other has MQTT off. wrk drives both, interleaved
(http_bench), so the ratio on/off per cell is the cost of publishing on the hot path (the
issue's target: within 5 %). The MQTT server's /metrics shows it kept publishing.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from benchmarks import http_bench, servers
from benchmarks.procs import Children, free_port, http_get, wait_until
from benchmarks.simproc import start_simulator

INTERVAL_S = 1.0
PATHS = ("/aggregates", "/api/aggregate/power")
MOSQUITTO = ("mosquitto", "/usr/sbin/mosquitto")


def mosquitto_path() -> str:
    for candidate in MOSQUITTO:
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("mosquitto not found: apt-get install -y mosquitto")


def run_mqtt(
    children: Children, work: Path, plan: http_bench.Plan, say: Callable[[str], None]
) -> dict[str, Any]:
    sim = start_simulator(children, 2, name="mqtt-simulator")
    broker_port = free_port()
    broker_config = work / "mosquitto.conf"
    broker_config.write_text(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\n")
    children.start("mosquitto", [mosquitto_path(), "-c", str(broker_config)])
    targets, on_child = [], None
    for name, gateway, mqtt in (
        ("mqtt-off", sim.gateways[0], None),
        ("mqtt-on", sim.gateways[1], broker_port),
    ):
        port = free_port()
        config = work / f"{name}.yaml"
        servers.write_config(config, [gateway], port, INTERVAL_S)
        if mqtt is not None:
            document = yaml.safe_load(config.read_text())
            document["mqtt"] = {"host": "127.0.0.1", "port": mqtt}
            config.write_text(yaml.safe_dump(document, sort_keys=False))
        argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(config)]
        child = children.start(name, argv, env=servers.clean_env(), cwd=servers.REPO)
        base_url = f"http://127.0.0.1:{port}"
        servers.wait_first_data(child, base_url)
        targets.append(http_bench.HttpTarget(name, base_url, child.pid))
        on_child = child
    on = targets[1]
    assert on_child is not None
    wait_until(on_child, lambda: _published(on.base_url) > 0, 30)
    before = _published(on.base_url)
    cells = http_bench.Plan(PATHS, plan.connections, plan.seconds, plan.rounds, 1)
    say(f"MQTT: on vs off, {cells}")
    http = http_bench.run_http(targets, cells, say)
    published = _published(on.base_url) - before
    return {
        "http": http,
        "published_during_http": published,
        "ratio_on_off": ratios(http["targets"]["mqtt-on"], http["targets"]["mqtt-off"]),
    }


def ratios(on: dict[str, Any], off: dict[str, Any]) -> dict[str, float]:
    """requests/s with MQTT on over off, per cell (medians over rounds)."""
    return {
        key: on[key]["median"]["requests_per_s"] / off[key]["median"]["requests_per_s"]
        for key in on
        if key in off and off[key]["median"]["requests_per_s"]
    }


def _published(base_url: str) -> float:
    status, body = http_get(base_url + "/metrics", timeout=2.0)
    if status != 200:
        return 0.0
    found = re.search(rb"^pypowerwall_mqtt_published_total (\S+)$", body, re.M)
    return float(found.group(1)) if found else 0.0
