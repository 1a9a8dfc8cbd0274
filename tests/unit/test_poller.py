"""Poller behaviour against a hand-written fake at our GatewayAdapter boundary."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayUnreachable
from pypowerwall_server.gateway.poller import Poller, PollPlan
from pypowerwall_server.gateway.schedule import poll_phases
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import GatewayAttributes

ATTRS = GatewayAttributes("local", False, False, False, False, "off", None, "0.22.2")
PLAN = PollPlan(fast_calls=("fast()",), slow_calls=("slow()",), slow_interval=3600)


class FakeAdapter:
    def __init__(self) -> None:
        self.fetches: list[tuple[str, ...]] = []
        self.fail = False
        self.hang = threading.Event()  # set = calls hang until released
        self.release = threading.Event()
        self.value = 0

    def connect(self) -> GatewayAttributes:
        return ATTRS

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        self.fetches.append(tuple(calls))
        if self.hang.is_set():
            self.release.wait(timeout=5)
        if self.fail:
            raise GatewayUnreachable("simulated outage")
        self.value += 1
        return {c: self.value for c in calls}

    def close(self) -> None:
        pass


def make(interval: float = 0.05, timeout: float = 0.2) -> tuple[Poller, FakeAdapter, Hub]:
    state = GatewayState("gw", "gw", "local", interval)
    hub = Hub([state], stale_after_intervals=3)
    adapter = FakeAdapter()
    executor = ThreadPoolExecutor(2)
    poller = Poller(state, adapter, executor, PLAN, hub.publish, timeout)
    return poller, adapter, hub


async def until(predicate: Any, timeout: float = 5.0) -> None:
    """Let the event loop run until `predicate()` holds (fails after `timeout`)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def run_for(poller: Poller, seconds: float) -> None:
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_success_publishes_snapshot_and_slow_tier_only_when_due() -> None:
    poller, adapter, hub = make()
    task = asyncio.create_task(poller.run())
    await until(lambda: len(adapter.fetches) >= 3 and hub.get("gw").snapshot is not None)
    await until(lambda: hub.get("gw").snapshot.calls["fast()"] == adapter.value)  # type: ignore[union-attr]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    state = hub.get("gw")
    assert state.online and state.snapshot is not None
    assert adapter.fetches[0] == ("fast()", "slow()")
    assert all(f == ("fast()",) for f in adapter.fetches[1:])
    assert len(adapter.fetches) >= 3
    # the slow value is carried over from the first poll, with its own time
    snap = state.snapshot
    assert snap.calls["slow()"] == 1 and snap.calls["fast()"] == adapter.value
    assert snap.call_times["slow()"] < snap.call_times["fast()"]


async def test_failure_keeps_last_snapshot_and_logs_outage_once(caplog) -> None:
    caplog.set_level(logging.INFO, logger="pypowerwall_server.gateway.poller")
    poller, adapter, hub = make(interval=0.02)
    task = asyncio.create_task(poller.run())
    await until(lambda: hub.get("gw").snapshot is not None)
    good = hub.get("gw").snapshot
    adapter.fail = True
    await until(lambda: hub.get("gw").consecutive_failures >= 2)
    down = hub.get("gw")
    assert down.online is False and down.snapshot is good
    assert down.last_error == "simulated outage" and down.consecutive_failures >= 2
    adapter.fail = False
    poller.refresh_slow_tier()  # wakes the poller at once
    await until(lambda: hub.get("gw").online)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert hub.get("gw").online is True
    messages = [r.getMessage() for r in caplog.records]
    assert sum("down" in m for m in messages) == 1
    assert sum("recovered" in m for m in messages) == 1


async def test_hung_call_is_not_stacked_and_times_out() -> None:
    poller, adapter, hub = make(interval=0.02, timeout=0.1)
    adapter.hang.set()
    await run_for(poller, 0.5)
    assert len(adapter.fetches) == 1  # never a second call while the first hangs
    state = hub.get("gw")
    assert state.online is False and state.last_error == "gateway did not answer in time"
    adapter.release.set()


@pytest.mark.parametrize(
    ("error", "bounds"),
    [
        (GatewayBusy("429"), [(0.8, 1.2), (1.6, 2.4), (3.2, 4.8), (6.4, 9.6), (48, 72)]),
        (AuthFailed("401"), [(48, 72), (96, 144), (192, 288), (240, 360), (240, 360)]),
        (GatewayUnreachable("timeout"), [(0.9, 1.1)] * 5),
    ],
)
def test_retry_delay_by_error_kind(error, bounds) -> None:
    poller, _adapter, _ = make(interval=1.0)
    for failures, (low, high) in zip((1, 2, 3, 4, 20), bounds, strict=True):
        poller.state = GatewayState("gw", "gw", "local", 1.0, consecutive_failures=failures)
        assert low <= poller._retry_delay(error) <= high, (failures, error)


async def test_thread_count_bounded_after_many_fault_cycles() -> None:
    poller, adapter, _ = make(interval=0.001, timeout=0.05)
    before = threading.active_count()
    task = asyncio.create_task(poller.run())
    for cycle in range(100):
        adapter.fail = cycle % 2 == 0
        await asyncio.sleep(0.003)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert threading.active_count() <= before + 2  # the executor's two workers at most


def test_stale_marking_by_age() -> None:
    from pypowerwall_server.models import Readings, Snapshot

    clock = [1000.0]
    empty = GatewayState("gw", "gw", "local", 5.0)
    hub = Hub([empty], stale_after_intervals=3, clock=lambda: clock[0])
    assert hub.is_fresh(empty) is False  # no data yet is never fresh
    snap = Snapshot("gw", 1000.0, {}, {}, ATTRS, Readings())
    state = GatewayState("gw", "gw", "local", 5.0, snapshot=snap)
    clock[0] = 1015.0
    assert hub.is_fresh(state) is True and state.age(clock[0]) == 15.0
    clock[0] = 1015.1
    assert hub.is_fresh(state) is False


def test_healthy_polls_snap_to_the_shared_interval_grid() -> None:
    poller, _adapter, _ = make(interval=5.0)
    for started, expected in ((1000.0, 5.0), (1001.2, 3.8), (1004.99, 0.01), (1005.0, 5.0)):
        assert poller._until_next_tick(started) == pytest.approx(expected)
    # Woken a hair early for the 1005 tick: the next poll is at 1010, not at once again.
    assert poller._until_next_tick(1004.9995) == pytest.approx(5.0005)


async def test_poll_start_is_told_to_the_hub_and_publishing_clears_it() -> None:
    state = GatewayState("gw", "gw", "local", 0.05)
    hub = Hub([state], stale_after_intervals=3)
    adapter = FakeAdapter()
    adapter.hang.set()
    seen: list[bool] = []

    def started(gateway_id: str) -> None:
        hub.poll_started(gateway_id)
        seen.append(hub.awaiting_online())

    poller = Poller(state, adapter, ThreadPoolExecutor(1), PLAN, hub.publish, 5.0, on_start=started)
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.1)
    assert seen == [False]  # an offline gateway (no data yet) is not waited for
    adapter.release.set()
    adapter.hang.clear()
    for _ in range(100):
        if hub.get("gw").online and len(seen) > 1:
            break
        await asyncio.sleep(0.01)
    assert seen[-1] is True  # online now, and its next poll is under way
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    hub.publish(hub.get("gw"))
    assert hub.awaiting_online() is False


def test_a_phase_shifts_the_grid() -> None:
    state = GatewayState("gw", "gw", "local", 5.0)
    hub = Hub([state], stale_after_intervals=3)
    poller = Poller(state, FakeAdapter(), ThreadPoolExecutor(1), PLAN, hub.publish, 1.0, phase=1.25)
    for started, expected in ((1000.0, 1.25), (1001.25, 5.0), (1004.0, 2.25), (1006.2499, 5.0001)):
        assert poller._until_next_tick(started) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("intervals", "threads", "expected"),
    [
        ([5.0] * 3, 64, [0.0, 0.0, 0.0]),  # they fit the threads: one grid point
        ([5.0] * 5, 2, [0.0, 5 / 3, 10 / 3, 0.0, 5 / 3]),  # 3 groups of at most 2
        ([5.0, 1.0, 5.0, 1.0], 1, [0.0, 0.0, 2.5, 0.5]),  # each interval on its own
    ],
)
def test_poll_phases(intervals: list[float], threads: int, expected: list[float]) -> None:
    assert poll_phases(intervals, threads) == pytest.approx(expected)


def test_phases_keep_each_group_within_the_threads() -> None:
    phases = poll_phases([5.0] * 500, 64)
    groups = {p: phases.count(p) for p in set(phases)}
    assert len(groups) == 8 and max(groups.values()) <= 64
