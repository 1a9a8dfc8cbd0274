"""Part 5: K simulated gateways, 100 ms added latency on every gateway request; does our
server keep each gateway on its poll schedule?

Achieved interval: read from the server. GET /api/gateways is sampled every second; each
gateway's `last_updated` is the creation time (server clock) of its newest Snapshot, so
every distinct value is one completed poll, timed exactly (sampling only has to be faster
than the interval). Intervals are the gaps between consecutive polls inside the observation
window, plus the final open gap when it is already late (> 1.5 x interval), so a gateway
that stops being polled counts against the schedule instead of disappearing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import stats
from benchmarks.footprint import MIB
from benchmarks.procs import (
    Child,
    Children,
    ReadyTimeout,
    cpu_percent,
    free_port,
    http_get,
    sample,
    wait_until,
)
from benchmarks.servers import start_ours
from benchmarks.simproc import start_simulator

LATENCY_MS = 100.0
INTERVAL_S = 5.0
ON_SCHEDULE_FACTOR = 1.5
SAMPLE_EVERY_S = 1.0
# Connecting is the expensive part (TLS, login, config).
FIRST_POLL_BOUND_S = 30.0
FIRST_POLL_BOUND_PER_GATEWAY_S = 0.25


def last_updated(base_url: str) -> dict[str, float]:
    status, body = http_get(base_url + "/api/gateways", timeout=5.0)
    if status != 200:
        return {}
    entries = json.loads(body).get("gateways", [])
    return {e["id"]: e["last_updated"] for e in entries if e.get("last_updated") is not None}


def gateway_intervals(polls: dict[str, set[float]], window_end: float, limit: float) -> list[float]:
    """Every gap between a gateway's polls, plus its open gap at the end if that is late."""
    gaps: list[float] = []
    for times in polls.values():
        gaps += stats.intervals(times)
        if times and window_end - max(times) > limit:
            gaps.append(window_end - max(times))
    return gaps


def schedule_summary(
    polls: dict[str, set[float]], expected: int, window_end: float, interval: float
) -> dict[str, Any]:
    limit = ON_SCHEDULE_FACTOR * interval
    gaps = gateway_intervals(polls, window_end, limit)
    never = expected - sum(1 for times in polls.values() if times)
    p99 = stats.percentile(gaps, 99.0)
    return {
        "intervals": len(gaps),
        "interval_median_s": stats.median(gaps),
        "interval_p99_s": p99,
        "gateways_without_poll": never,
        "on_schedule": never == 0 and p99 is not None and p99 <= limit,
    }


def observe(base_url: str, ids: list[str], seconds: float) -> tuple[dict[str, set[float]], float]:
    polls: dict[str, set[float]] = {gid: set() for gid in ids}
    deadline = time.monotonic() + seconds
    window_start = time.time()
    while time.monotonic() < deadline:
        for gid, updated in last_updated(base_url).items():
            if updated >= window_start and gid in polls:
                polls[gid].add(updated)
        time.sleep(SAMPLE_EVERY_S)
    return polls, time.time()


def run_one(children: Children, work: Path, k: int, observe_s: float) -> dict[str, Any]:
    sim = start_simulator(children, k, name=f"sim-k{k}")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_ours(children, work, sim.gateways, port, INTERVAL_S, name=f"ours-k{k}")
    first_polls = _wait_first_polls(server, base_url, k)
    # The latency applies to the steady state observed below; connecting K gateways through
    # it only made the run longer (500 gateways: ~60 s instead of ~20).
    sim.add_latency_everywhere(LATENCY_MS)
    time.sleep(INTERVAL_S)  # every poll under way now has met the latency
    before, sim_before = sample(server.pid), sample(sim.child.pid)
    polls, window_end = observe(base_url, [g.id for g in sim.gateways], observe_s)
    after, sim_after = sample(server.pid), sample(sim.child.pid)
    children.stop(server)
    children.stop(sim.child)
    return {
        "gateways": k,
        **schedule_summary(polls, k, window_end, INTERVAL_S),
        "first_polls_s": first_polls,
        "cpu_percent": cpu_percent(before, after),
        "rss_mib": after.rss_bytes / MIB,
        "threads": after.threads,
        "simulator_cpu_percent": cpu_percent(sim_before, sim_after),
        "observed_s": observe_s,
    }


def _wait_first_polls(server: Child, base_url: str, k: int) -> float | None:
    """Seconds from spawn until every gateway has data (None: not all within the bound; a
    server that falls behind is then measured as it is)."""
    bound = FIRST_POLL_BOUND_S + k * FIRST_POLL_BOUND_PER_GATEWAY_S
    try:
        return wait_until(server, lambda: len(last_updated(base_url)) == k, bound, 0.5)
    except ReadyTimeout:
        if not server.alive() or not last_updated(base_url):
            raise RuntimeError(f"K={k}: no gateway polled:\n{server.log_tail()}") from None
        return None


def run_scale(
    children: Children,
    work: Path,
    ks: tuple[int, ...],
    observe_s: float,
    say: Callable[[str], None],
) -> dict[str, Any]:
    runs = []
    for k in ks:
        result = run_one(children, work, k, observe_s)
        runs.append(result)
        say(
            f"  K={k:4}: all polled {_fmt(result['first_polls_s'])} s after start; "
            f"interval median {_fmt(result['interval_median_s'])} s, "
            f"p99 {_fmt(result['interval_p99_s'])} s, CPU {result['cpu_percent']:.0f} %, "
            f"RSS {result['rss_mib']:.0f} MiB, threads {result['threads']}, "
            f"simulator CPU {result['simulator_cpu_percent']:.0f} %"
        )
    return {
        "interval_s": INTERVAL_S,
        "latency_ms": LATENCY_MS,
        "runs": runs,
        "largest_on_schedule": largest_on_schedule(runs),
    }


def largest_on_schedule(runs: list[dict[str, Any]]) -> int:
    """The largest K such that it and every smaller K measured kept on schedule."""
    kept = 0
    for run in sorted(runs, key=lambda r: int(r["gateways"])):
        if not run["on_schedule"]:
            break
        kept = int(run["gateways"])
    return kept


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
