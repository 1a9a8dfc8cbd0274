"""Follow-ups after a `pending` write (control/follow_up.py): the slow tier is refreshed
after each delay until the read-back shows the write, then the following stops; a write
with nothing pending is not followed."""

from __future__ import annotations

import asyncio

from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.follow_up import FollowUps
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.writes import PartOutcome, WriteOutcome, WriteStatus

from .fakes import FakeSupervisor, FakeWriter

DELAYS = (0.01, 0.01, 0.01)


def outcome(status: WriteStatus, reserve: int = 40) -> WriteOutcome:
    part = PartOutcome(Control.RESERVE, reserve, 20.0, 20.0, status)
    return WriteOutcome("home", (part,))


async def until(predicate: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.005)


async def test_a_pending_write_is_refreshed_until_shown_then_no_more() -> None:
    supervisor = FakeSupervisor(FakeWriter(), ControlState(reserve_percent=20.0))
    follow_ups = FollowUps(supervisor, DELAYS)
    follow_ups.add(outcome(WriteStatus.PENDING))
    task = asyncio.create_task(follow_ups.run())
    try:
        await until(lambda: len(supervisor.refreshes) == 1)
        supervisor.state = ControlState(reserve_percent=40.0)  # the gateway applied it
        await until(lambda: len(supervisor.refreshes) == 2)
        await asyncio.sleep(0.05)
        assert supervisor.refreshes == ["home", "home"]  # shown: it stopped looking
        follow_ups.add(outcome(WriteStatus.APPLIED))
        await asyncio.sleep(0.05)
        assert len(supervisor.refreshes) == 2  # nothing pending, nothing followed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_gateway_that_never_shows_it_is_looked_at_once_per_delay() -> None:
    supervisor = FakeSupervisor(FakeWriter(), ControlState(reserve_percent=20.0))
    supervisor.refresh_error = TimeoutError()  # and a failing refresh does not end it
    follow_ups = FollowUps(supervisor, DELAYS)
    follow_ups.add(outcome(WriteStatus.PENDING))
    follow_ups.add(outcome(WriteStatus.PENDING, 45))  # a newer write: one follow-up still
    task = asyncio.create_task(follow_ups.run())
    try:
        await until(lambda: len(supervisor.refreshes) == 3)
        await asyncio.sleep(0.05)
        assert supervisor.refreshes == ["home"] * 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
