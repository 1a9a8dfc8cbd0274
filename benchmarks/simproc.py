"""The simulator in its own process (so its CPU never mixes with the server's), and a small
client for its admin API: request counters, ring buffers, faults."""

from __future__ import annotations

import json
import secrets
import shlex
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.procs import Child, Children, ReadyTimeout


@dataclass(frozen=True)
class SimGateway:
    id: str
    host: str  # "127.0.0.1:PORT"
    gw_pwd: str


@dataclass
class Simulator:
    child: Child
    admin_url: str
    token: str
    gateways: list[SimGateway]

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.admin_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def counts(self) -> dict[str, dict[str, int]]:
        """Requests per path per gateway since the last reset."""
        answer = self._request("GET", "/requests")
        return {gid: dict(summary["counts"]) for gid, summary in answer["gateways"].items()}

    def add_latency_everywhere(self, latency_ms: float) -> None:
        self._request("POST", "/faults", {"kind": "latency", "latency_ms": latency_ms})

    def set_fault(self, gateway_id: str, fault: dict[str, Any]) -> None:
        self._request("POST", f"/gateways/{gateway_id}/faults", fault)

    def clear_faults(self) -> None:
        self._request("DELETE", "/faults")

    def fleetapi(self) -> dict[str, Any]:
        """The simulator's Fleet API listener: its CA (`ca_pem`) and address."""
        answer: dict[str, Any] = self._request("GET", "/fleetapi")
        return answer

    def fleetapi_config(self, gateway_id: str) -> dict[str, Any]:
        """The .pypowerwall.fleetapi file that points pypowerwall at this gateway's site."""
        answer: dict[str, Any] = self._request("GET", f"/gateways/{gateway_id}/fleetapi_config")
        return answer


def parse_ready(text: str) -> tuple[str, str, list[SimGateway]]:
    """(admin URL, admin token, gateways) from what `simulate` prints when it is ready."""
    admin_url = token = None
    gateways: list[SimGateway] = []
    for line in text.splitlines():
        if line.startswith("Admin API: "):
            admin_url = line.removeprefix("Admin API: ").strip()
        elif line.startswith("Admin token: "):
            token = line.removeprefix("Admin token: ").strip()
        elif line.startswith("PW_GATEWAYS="):
            entries = json.loads(shlex.split(line.removeprefix("PW_GATEWAYS="))[0])
            gateways = [SimGateway(e["id"], e["host"], e["gw_pwd"]) for e in entries]
    if admin_url is None or token is None or not gateways:
        raise ValueError("simulator output incomplete")
    return admin_url, token, gateways


def start_simulator(
    children: Children, gateways: int, name: str = "simulator", extra: Sequence[str] = ()
) -> Simulator:
    token = secrets.token_urlsafe(16)
    argv = [sys.executable, "-m", "pypowerwall_server", "simulate"]
    # "--admin-token=…": a token may start with "-", which argparse would take for an option.
    argv += ["--gateways", str(gateways), f"--admin-token={token}", "--host", "127.0.0.1"]
    argv += extra
    child = children.start(name, argv)
    deadline = time.monotonic() + 60 + gateways * 0.2
    while time.monotonic() < deadline:
        if not child.alive():
            raise ReadyTimeout(f"simulator exited:\n{child.log_tail()}")
        try:
            admin_url, token, sims = parse_ready(child.log_path.read_text(errors="replace"))
            return Simulator(child, admin_url, token, sims)
        except (ValueError, OSError):
            time.sleep(0.1)
    raise ReadyTimeout(f"simulator not ready:\n{child.log_tail()}")
