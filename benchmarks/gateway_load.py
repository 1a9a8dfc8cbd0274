"""Part 4: HTTP requests per minute a simulated gateway receives from the server polling it,
read from the simulator's request counters. Idle here; under client load (suite.py) they
are counted over the whole HTTP part, for each server and for a control instance of our
server that polls its own gateway and never gets a client request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks import stats
from benchmarks.simproc import Simulator


@dataclass(frozen=True)
class IdleWindow:
    """Request counters at the start of an idle window (no clients for the servers
    counted; other parts of the suite may run meanwhile, on their own simulator)."""

    before: dict[str, dict[str, int]]
    started: float

    @classmethod
    def open(cls, sim: Simulator) -> IdleWindow:
        return cls(sim.counts(), time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self, sim: Simulator, gateway_of: Mapping[str, str]) -> dict[str, Any]:
        """{target: {"per_minute": {path: n}, "total_per_minute": n}} over the window.
        gateway_of maps a target name (ours, peer) to the simulated gateway id it polls."""
        after = sim.counts()
        elapsed = self.elapsed()
        out: dict[str, Any] = {}
        for target, gateway_id in gateway_of.items():
            grown = stats.diff_counts(self.before.get(gateway_id, {}), after.get(gateway_id, {}))
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
