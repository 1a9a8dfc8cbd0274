"""Part 7: memory and threads of an idle server, and time from spawn to first data."""

from __future__ import annotations

from typing import Any

from benchmarks.procs import Child, ProcSample, cpu_percent, sample

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
