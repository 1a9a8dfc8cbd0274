"""What each poll asks for, and the bounds on time and threads."""

from __future__ import annotations

from collections.abc import Sequence

from pypowerwall_server.gateway import readings
from pypowerwall_server.gateway.poller import PollPlan
from pypowerwall_server.gateway.transports import chain_poll_timeout
from pypowerwall_server.legacy import FAST_CALLS, SLOW_CALLS
from pypowerwall_server.settings import GatewayConfig

MAX_WORKER_THREADS = 64


def poll_plan(writable: bool = False) -> PollPlan:
    """Our own calls (gateway/readings.py) first, then the legacy routes'. A gateway that
    can write also reads its control settings in the slow tier (a write's read-back)."""
    control = readings.CONTROL_CALLS if writable else ()
    fast = tuple(dict.fromkeys((*readings.FAST_CALLS, *FAST_CALLS)))
    ours = (*readings.SLOW_CALLS, *control)
    slow = tuple(c for c in dict.fromkeys((*ours, *SLOW_CALLS)) if c not in fast)
    return PollPlan(fast, slow)


def poll_timeout(config: GatewayConfig) -> float:
    """A poll makes many calls, most answered from the library's per-poll cache. With
    several transports it may try each (gateway/transports.py)."""
    if len(config.transports) > 1:
        return max(config.poll_interval, chain_poll_timeout(config))
    return max(config.poll_interval, 3 * config.timeout)


def worker_threads(gateways: int) -> int:
    """One poll in flight per gateway, so at most one thread each, capped: at 100 ms per
    gateway request a 5 s interval keeps ~20 threads busy for 500 gateways."""
    return max(1, min(MAX_WORKER_THREADS, gateways))


def poll_phases(intervals: Sequence[float], threads: int) -> list[float]:
    """Each gateway's offset from the shared clock grid. Gateways of one interval share a
    grid point while they fit the worker threads; beyond that they are dealt round-robin
    into groups of at most `threads`, spread evenly over the interval. (500 gateways
    started at one instant queued for 64 threads, and completed in a different order each
    tick: intervals of 5 s came out between 2 and 8 s.)"""
    phases = [0.0] * len(intervals)
    by_interval: dict[float, list[int]] = {}
    for index, interval in enumerate(intervals):
        by_interval.setdefault(interval, []).append(index)
    for interval, members in by_interval.items():
        groups = -(-len(members) // max(1, threads))
        for position, index in enumerate(members):
            phases[index] = (position % groups) * interval / groups
    return phases
