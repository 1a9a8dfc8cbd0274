"""The one restart-with-backoff policy (tasks, gateway pollers, MQTT): delays double up to a
cap, start over once the work has recovered, and cancellation is never swallowed."""

from __future__ import annotations

import asyncio

import pytest

from pypowerwall_server.backoff import Backoff, restart_with_backoff


def test_delays_double_up_to_the_cap_and_start_over_on_reset() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


class Clock:
    """The sleeps restart_with_backoff asks for, recorded instead of waited."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_a_failing_run_is_restarted_after_growing_delays_until_it_returns() -> None:
    outcomes: list[Exception | None] = [ValueError("one"), KeyError("two"), None]
    failures: list[tuple[str, float]] = []
    clock = Clock()

    async def run() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    await restart_with_backoff(
        run,
        Backoff(0.5, 10.0),
        lambda exc, delay: failures.append((type(exc).__name__, delay)),
        sleep=clock.sleep,
    )
    assert outcomes == []
    assert failures == [("ValueError", 0.5), ("KeyError", 1.0)]
    assert clock.slept == [0.5, 1.0]


async def test_a_run_that_had_recovered_starts_the_delays_over() -> None:
    runs = 0
    clock = Clock()

    async def run() -> None:
        nonlocal runs
        runs += 1
        if runs < 5:
            raise RuntimeError(f"crash {runs}")

    await restart_with_backoff(
        run, Backoff(1.0, 60.0), lambda exc, delay: None, lambda: runs == 3, clock.sleep
    )
    assert clock.slept == [1.0, 2.0, 1.0, 2.0]


async def test_cancellation_is_never_swallowed() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(restart_with_backoff(forever, Backoff(1.0, 1.0), print))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
