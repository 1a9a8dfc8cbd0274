"""Part 1-3: throughput and latency of the hot GETs, for each target (ours, floor, peer),
rounds interleaved: every round visits every (path, connections) cell, and inside a cell the
targets run back to back in an order that rotates each cell and each round, so drift in the
machine's speed hits all targets alike. Also reads each target's CPU during its cells."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import stats
from benchmarks.procs import cpu_percent, sample
from benchmarks.wrk import WrkResult, run_wrk

PATHS = ("/aggregates", "/vitals", "/csv", "/api/aggregate/power")
CONNECTIONS = (1, 16, 64)


@dataclass
class HttpTarget:
    name: str
    base_url: str
    pid: int
    connections: tuple[int, ...] | None = None  # the cells it runs (None: all)

    def runs(self, connections: int) -> bool:
        return self.connections is None or connections in self.connections


@dataclass(frozen=True)
class Plan:
    paths: tuple[str, ...]
    connections: tuple[int, ...]
    seconds: int
    rounds: int
    warmup_seconds: int


def cell_key(path: str, connections: int) -> str:
    return f"{path} c{connections}"


def measure_cell(target: HttpTarget, path: str, connections: int, seconds: int) -> dict[str, Any]:
    before = sample(target.pid)
    result: WrkResult = run_wrk(target.base_url + path, connections, seconds)
    after = sample(target.pid)
    return {**result.to_json(), "cpu_percent": cpu_percent(before, after)}


def warm_up(targets: list[HttpTarget], plan: Plan) -> None:
    for target in targets:
        for path in plan.paths:
            run_wrk(target.base_url + path, 16, plan.warmup_seconds)


def rotated(items: list[HttpTarget], by: int) -> list[HttpTarget]:
    by %= max(1, len(items))
    return items[by:] + items[:by]


def run_http(targets: list[HttpTarget], plan: Plan, say: Callable[[str], None]) -> dict[str, Any]:
    """{"targets": {target: {cell: {"rounds": [...], "median": {...}}}}, "plan", "elapsed_s"}."""
    warm_up(targets, plan)
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {t.name: {} for t in targets}
    started = time.monotonic()
    plan_cells = [(path, c) for path in plan.paths for c in plan.connections]
    for round_index in range(plan.rounds):
        for cell_index, (path, connections) in enumerate(plan_cells):
            key = cell_key(path, connections)
            # Who goes first changes every cell and every round, so no server always
            # follows the same one (a single quick round showed that bias).
            for target in rotated(targets, round_index + cell_index):
                if not target.runs(connections):
                    continue
                cell = measure_cell(target, path, connections, plan.seconds)
                raw[target.name].setdefault(key, []).append(cell)
                say(
                    f"  round {round_index + 1} {target.name:5} {key:28} "
                    f"{cell['requests_per_s']:9.0f} req/s p99 {cell['p99_ms']:7.2f} ms"
                )
    return {
        "plan": plan.__dict__,
        "elapsed_s": time.monotonic() - started,
        "targets": {name: summarize(cells) for name, cells in raw.items()},
    }


def summarize(cells: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Median of each figure over the rounds; every round kept too."""
    out: dict[str, Any] = {}
    for key, rounds in cells.items():
        figures = ("requests_per_s", "p50_ms", "p99_ms", "cpu_percent")
        out[key] = {
            "median": {f: stats.median([r[f] for r in rounds]) for f in figures},
            "errors": sum(r["non_2xx"] + r["socket_errors"] for r in rounds),
            "rounds": rounds,
        }
    return out
