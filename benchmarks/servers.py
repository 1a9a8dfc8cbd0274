"""Start our server and the floor as their own processes, configured for the simulator."""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.request
from pathlib import Path

import yaml

from benchmarks.procs import Child, Children, http_get, wait_until
from benchmarks.simproc import SimGateway

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120.0
HOP_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}


def clean_env() -> dict[str, str]:
    """This environment without PW_* settings, so only the config we write applies."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PW_")}


def write_config(path: Path, gateways: list[SimGateway], port: int, interval: float) -> None:
    config = {
        "server": {"host": "127.0.0.1", "port": port},
        "gateways": [
            {"id": g.id, "host": g.host, "gw_pwd": g.gw_pwd, "poll_interval": interval}
            for g in gateways
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def start_ours(
    children: Children,
    work: Path,
    gateways: list[SimGateway],
    port: int,
    interval: float = 5.0,
    name: str = "ours",
) -> Child:
    config = work / f"{name}.yaml"
    write_config(config, gateways, port, interval)
    argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(config)]
    return children.start(name, argv, env=clean_env(), cwd=REPO)


def has_aggregates(base_url: str) -> bool:
    """True once /aggregates answers 200 with a non-empty JSON object."""
    status, body = http_get(base_url + "/aggregates", timeout=1.0)
    if status != 200:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("site"))


def wait_first_data(child: Child, base_url: str, timeout: float = START_TIMEOUT_S) -> float:
    """Seconds from spawning the process to the first non-empty /aggregates."""
    return wait_until(child, lambda: has_aggregates(base_url), timeout)


def capture_answers(base_url: str, paths: list[str]) -> dict[str, dict[str, object]]:
    """Status, headers and body of each path, as the floor needs them."""
    answers: dict[str, dict[str, object]] = {}
    for path in paths:
        with urllib.request.urlopen(base_url + path, timeout=10) as response:
            headers = [[k, v] for k, v in response.getheaders() if k.lower() not in HOP_HEADERS]
            body = response.read()
            answers[path] = {
                "status": response.status,
                "headers": headers,
                "body_b64": base64.b64encode(body).decode(),
            }
    return answers


def start_floor(
    children: Children, work: Path, answers: dict[str, dict[str, object]], port: int
) -> Child:
    bodies = work / "floor-bodies.json"
    bodies.write_text(json.dumps(answers))
    argv = [sys.executable, "-m", "benchmarks.floor", str(bodies), str(port)]
    child = children.start("floor", argv, env=clean_env(), cwd=REPO)
    first = next(iter(answers))
    wait_until(child, lambda: http_get(f"http://127.0.0.1:{port}{first}")[0] == 200, 30)
    return child
