"""Part 6: WebSocket fan-out on /ws/aggregate, N clients at a time.

The clients are benchmarks/ws_load.py (many asyncio connections in one child process); it
reports updates per client, delays from each Snapshot's creation to receipt, and bytes per
client per second. Here: run it for each N, read the server's CPU meanwhile, and keep the
figures the targets need. Without the route (or the client) the part says "not implemented"
instead of inventing numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidURI

from benchmarks.procs import Children, cpu_percent, sample

LOAD_CLIENT = Path(__file__).resolve().parent / "ws_load.py"
CLIENT_COUNTS = (100, 1_000, 5_000)
CLIENTS_PER_PROC = 1_000  # one asyncio process decoding 5,000 messages per update lags behind


def client_procs(clients: int) -> int:
    """Load-client processes: the receiver's own CPU adds to the delays it measures."""
    return max(1, min(os.cpu_count() or 1, -(-clients // CLIENTS_PER_PROC)))


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/ws/aggregate"


def ws_available(base_url: str) -> bool:
    """Whether a WebSocket handshake on /ws/aggregate succeeds (a plain GET would fall
    through to the legacy catch-all route and tell nothing)."""
    return LOAD_CLIENT.exists() and asyncio.run(_handshake(ws_url(base_url)))


async def _handshake(url: str) -> bool:
    try:
        async with connect(url, open_timeout=5.0, close_timeout=1.0):
            return True
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI):
        return False


def run_clients(
    children: Children, base_url: str, pid: int, clients: int, seconds: float, out: Path
) -> dict[str, Any]:
    argv = [sys.executable, str(LOAD_CLIENT), "--url", ws_url(base_url)]
    argv += ["--clients", str(clients), "--procs", str(client_procs(clients))]
    argv += ["--duration", str(seconds), "--json", str(out)]
    before = sample(pid)
    child = children.start(f"ws-{clients}", argv)
    with contextlib.suppress(subprocess.TimeoutExpired):  # then stopped below
        child.popen.wait(timeout=seconds + 60 + clients / 50)
    after = sample(pid)
    children.stop(child)
    if not out.exists():
        return {"clients": clients, "error": child.log_tail()}
    summary = json.loads(out.read_text())
    return {
        "clients": clients,
        "connected": summary["connected"],
        "updates_per_client_median": summary["updates_per_client"]["median"],
        "delay_ms_data_p99": summary["delay_ms_data"]["p99"],
        "bytes_per_client_per_s": summary["bytes_per_client_per_s"]["mean"],
        "missed_updates_total": summary["missed_updates_total"],
        "errors": summary["errors"],
        "server_cpu_percent": cpu_percent(before, after),
    }


def run_ws(
    children: Children,
    base_url: str,
    pid: int,
    counts: tuple[int, ...],
    seconds: float,
    work: Path,
    say: Callable[[str], None],
) -> dict[str, Any]:
    if not ws_available(base_url):
        return {"implemented": False, "note": "/ws/aggregate not available: not implemented"}
    runs = []
    for clients in counts:
        result = run_clients(children, base_url, pid, clients, seconds, work / f"ws-{clients}.json")
        say(f"  ws {clients} clients: {result}")
        runs.append(result)
    return {"implemented": True, "seconds": seconds, "runs": runs}
