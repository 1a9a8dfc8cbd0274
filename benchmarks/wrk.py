"""Run wrk (the HTTP load generator) and parse what it prints."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

INSTALL_HINT = (
    "wrk is not installed; HTTP numbers need it. Install it with "
    "`sudo apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)."
)
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s|m)\s*$", re.M)
_RPS = re.compile(r"^Requests/sec:\s+(\d+(?:\.\d+)?)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.M)
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


class WrkOutputError(ValueError):
    """wrk printed something we cannot read (the text is in the message)."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_wrk(text: str) -> WrkResult:
    """Read `wrk --latency` output; latencies in ms."""
    rps = _RPS.search(text)
    total = _TOTAL.search(text)
    percentiles = {float(p): float(v) * _UNITS_MS[u] for p, v, u in _PERCENTILE.findall(text)}
    if rps is None or total is None or 50.0 not in percentiles or 99.0 not in percentiles:
        raise WrkOutputError(f"cannot read wrk output:\n{text}")
    non_2xx = _NON2XX.search(text)
    sockets = _SOCKET.search(text)
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=percentiles[50.0],
        p99_ms=percentiles[99.0],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing()
    return path


def wrk_command(url: str, connections: int, seconds: int) -> list[str]:
    # One wrk thread leaves the other core to the server on a 2-core machine.
    return [
        wrk_path(),
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]


def run_wrk(url: str, connections: int, seconds: int) -> WrkResult:
    done = subprocess.run(
        wrk_command(url, connections, seconds),
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    if done.returncode != 0:
        raise WrkOutputError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)
