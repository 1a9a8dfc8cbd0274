"""Part 4: HTTP requests per minute a simulated gateway receives from the server polling it,
read from the simulator's request counters. Idle here; under client load (suite.py) they
are counted over the whole HTTP part, for each server and for a control instance of our
server that polls its own gateway and never gets a client request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from benchmarks import stats
from benchmarks.simproc import Simulator


def idle_load(sim: Simulator, gateway_of: Mapping[str, str], seconds: float) -> dict[str, Any]:
    """{target: {"per_minute": {path: n}, "total_per_minute": n}} over `seconds` of no clients.
    gateway_of maps a target name (ours, peer) to the simulated gateway id it polls."""
    before = sim.counts()
    started = time.monotonic()
    time.sleep(seconds)
    after = sim.counts()
    elapsed = time.monotonic() - started
    out: dict[str, Any] = {}
    for target, gateway_id in gateway_of.items():
        grown = stats.diff_counts(before.get(gateway_id, {}), after.get(gateway_id, {}))
        out[target] = load_summary(grown, elapsed)
    return out


def load_summary(counts: Mapping[str, int], seconds: float) -> dict[str, Any]:
    per_minute = stats.per_minute(counts, seconds)
    return {
        "seconds": seconds,
        "counts": dict(counts),
        "total": sum(counts.values()),
        "per_minute": per_minute,
        "total_per_minute": sum(per_minute.values()),
    }
