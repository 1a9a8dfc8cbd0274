"""Part 7: memory and threads of an idle server, and time from spawn to first data."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.procs import Child, ProcSample, cpu_percent, http_get, sample

MIB = 1024 * 1024


def idle_footprint(child: Child, idle_from: ProcSample) -> dict[str, Any]:
    """RSS/threads now, and CPU % since `idle_from` (a ProcSample taken when idling began)."""
    now = sample(child.pid)
    return {
        "rss_mib": now.rss_bytes / MIB,
        "threads": now.threads,
        "idle_cpu_percent": cpu_percent(idle_from, now),
        "idle_seconds": now.at - idle_from.at,
    }


def rss_with_full_api(child: Child, base_url: str) -> float | None:
    """RSS once a request has made our server build its FastAPI app (built on first use)."""
    status, _ = http_get(base_url + "/api/gateways", timeout=30.0)
    if status != 200:
        return None
    time.sleep(1.0)
    return sample(child.pid).rss_bytes / MIB
