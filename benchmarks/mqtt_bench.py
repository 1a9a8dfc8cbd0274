"""MQTT part: hot-path throughput with MQTT publishing on vs off, in the same run; then
publish latency at scale (mqtt_latency.py: K gateways, K = the largest scale count).

Three servers of ours, each polling its own simulated gateway every second; one publishes to
a local mosquitto (Debian package), one also has control on (so it subscribes to the
command topics: controls over MQTT), the other has MQTT off. wrk drives both, interleaved
(http_bench), so the ratio on/off per cell is the cost of publishing on the hot path (the
target: within 5 %). The MQTT server's /metrics shows it kept publishing.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks import http_bench, servers
from benchmarks.mqtt_latency import measure_latency
from benchmarks.procs import Child, Children, free_port, http_get, wait_until
from benchmarks.simproc import SimGateway, start_simulator

INTERVAL_S = 1.0
SCALE_INTERVAL_S = 5.0
PATHS = ("/aggregates", "/api/aggregate/power")
MOSQUITTO = ("mosquitto", "/usr/sbin/mosquitto")
# control on and offered over MQTT: the command topics are subscribed
CONTROL = {"control_secret": "benchmark-control-secret", "mqtt_control": True}


def mosquitto_path() -> str:
    for candidate in MOSQUITTO:
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("mosquitto not found: apt-get install -y mosquitto")


def run_mqtt(
    children: Children,
    work: Path,
    plan: http_bench.Plan,
    scale_gateways: int,
    observe_seconds: float,
    say: Callable[[str], None],
) -> dict[str, Any]:
    broker_port = start_broker(children, work)
    sim = start_simulator(children, 3, name="mqtt-simulator")
    off = start_server(children, work, "mqtt-off", sim.gateways[:1], INTERVAL_S, None)
    on = start_server(children, work, "mqtt-on", sim.gateways[1:2], INTERVAL_S, broker_port)
    control = start_server(
        children, work, "mqtt-control", sim.gateways[2:], INTERVAL_S, broker_port, CONTROL
    )
    wait_until(on.child, lambda: _published(on.base_url) > 0, 30)
    before = _published(on.base_url)
    cells = http_bench.Plan(PATHS, plan.connections, plan.seconds, plan.rounds, 1)
    say(f"MQTT: on vs off, {cells}")
    http = http_bench.run_http([off.target, on.target, control.target], cells, say)
    published = _published(on.base_url) - before
    for started in (off, on, control):
        children.stop(started.child)
    say(f"MQTT: {scale_gateways} gateways every {SCALE_INTERVAL_S:g} s to mosquitto")
    big_sim = start_simulator(children, scale_gateways, name="mqtt-scale-simulator")
    big = start_server(
        children, work, "mqtt-scale", big_sim.gateways, SCALE_INTERVAL_S, broker_port
    )
    latency = measure_latency(big.child, big.base_url, broker_port, scale_gateways, observe_seconds)
    return {
        "http": http,
        "published_during_http": published,
        "ratio_on_off": ratios(http["targets"]["mqtt-on"], http["targets"]["mqtt-off"]),
        "ratio_control_on_off": ratios(http["targets"]["mqtt-control"], http["targets"]["mqtt-on"]),
        "scale": latency,
    }


@dataclass
class Started:
    child: Child
    base_url: str
    target: http_bench.HttpTarget


def start_broker(children: Children, work: Path) -> int:
    port = free_port()
    config = work / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    children.start("mosquitto", [mosquitto_path(), "-c", str(config)])
    return port


def start_server(
    children: Children,
    work: Path,
    name: str,
    gateways: list[SimGateway],
    interval: float,
    broker_port: int | None,
    server_settings: dict[str, Any] | None = None,
) -> Started:
    port = free_port()
    config = work / f"{name}.yaml"
    servers.write_config(config, gateways, port, interval)
    if broker_port is not None:
        document = yaml.safe_load(config.read_text())
        document["mqtt"] = {"host": "127.0.0.1", "port": broker_port}
        document["server"].update(server_settings or {})
        config.write_text(yaml.safe_dump(document, sort_keys=False))
    argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(config)]
    child = children.start(name, argv, env=servers.clean_env(), cwd=servers.REPO)
    base_url = f"http://127.0.0.1:{port}"
    servers.wait_first_data(child, base_url)
    return Started(child, base_url, http_bench.HttpTarget(name, base_url, child.pid))


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
