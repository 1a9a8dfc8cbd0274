"""Background tasks of the lifespan: leaving the context stops them, and a task that swallows
its cancellation cannot hold shutdown (a hung MQTT shutdown once held a test run forever)."""

from __future__ import annotations

import asyncio
import time

import pytest

from pypowerwall_server import tasks


async def test_leaving_the_context_cancels_and_waits_for_the_task() -> None:
    ran = asyncio.Event()

    async def forever() -> None:
        ran.set()
        await asyncio.sleep(3600)

    async with tasks.background("forever", forever) as task:
        await ran.wait()
    assert task.cancelled()


async def test_a_task_that_swallows_its_cancellation_does_not_hold_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "STOP_WAIT_S", 0.2)
    let_go = asyncio.Event()

    async def stubborn() -> None:
        while not let_go.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # what a library that turns cancellation into an error ends up doing

    started = time.monotonic()
    async with tasks.background("stubborn", stubborn) as task:
        await asyncio.sleep(0)
    assert time.monotonic() - started < 2
    assert not task.done()  # left behind, not waited for
    let_go.set()
    task.cancel()
    await asyncio.wait({task}, timeout=2)
    assert task.done()


async def test_a_task_that_crashes_is_logged_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = 0
    second_run = asyncio.Event()

    async def crashes_once() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("boom")
        second_run.set()
        await asyncio.Event().wait()

    async with tasks.background("flaky", crashes_once, backoff=(0.0, 0.0)):
        await asyncio.wait_for(second_run.wait(), timeout=5)
    assert runs == 2
    assert [r.getMessage() for r in caplog.records] == ["task flaky crashed; restarting in 0 s"]
