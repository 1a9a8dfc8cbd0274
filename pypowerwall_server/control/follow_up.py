"""After a write answered `pending` (the gateway accepted it but its read-back did not show
it yet), look again: the gateway's slow tier is refreshed FOLLOW_UP_S seconds later, and
after each further delay, until the read-back shows every pending part. So a GET shows the
applied value seconds later, not only after the next slow tier (minutes).

One task owned by the app's lifespan (`run`) does the looking; a write only notes what to
look for (`add`), at most one follow-up per gateway (a newer write replaces what it
expects)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.readback import Value, read_back, shows
from pypowerwall_server.control.writes import ControlSupervisor, WriteOutcome, WriteStatus

log = logging.getLogger(__name__)
FOLLOW_UP_S = (2.0, 10.0, 30.0)  # after the write; within the minutes of a slow tier
REFRESH_TIMEOUT_S = 10.0

Expected = tuple[tuple[Control, Value], ...]


class FollowUps:
    def __init__(
        self, supervisor: ControlSupervisor, delays: Sequence[float] = FOLLOW_UP_S
    ) -> None:
        self._supervisor = supervisor
        self._delays = tuple(delays)
        self._expected: dict[str, Expected] = {}  # gateway id -> what its pending write set
        self._queue: asyncio.Queue[str] = asyncio.Queue()  # gateways to start following

    def add(self, outcome: WriteOutcome) -> None:
        expected = tuple(
            (part.control, part.requested)
            for part in outcome.parts
            if part.status is WriteStatus.PENDING
        )
        if not expected:
            return
        following = outcome.gateway_id in self._expected
        self._expected[outcome.gateway_id] = expected
        if not following:
            self._queue.put_nowait(outcome.gateway_id)

    async def run(self) -> None:
        """Follow each noted gateway in its own task; cancelling this cancels them all."""
        self._queue = asyncio.Queue()  # of this event loop (an app may be started again)
        for gateway_id in self._expected:  # noted before it ran
            self._queue.put_nowait(gateway_id)
        async with asyncio.TaskGroup() as group:
            while True:
                gateway_id = await self._queue.get()
                group.create_task(self._follow(gateway_id), name=f"follow-up:{gateway_id}")

    async def _follow(self, gateway_id: str) -> None:
        try:
            for delay in self._delays:
                await asyncio.sleep(delay)
                if await self._shown(gateway_id):
                    return
            log.info("gateway %s: a pending write is still not shown", gateway_id)
        finally:
            self._expected.pop(gateway_id, None)

    async def _shown(self, gateway_id: str) -> bool:
        try:
            async with asyncio.timeout(REFRESH_TIMEOUT_S):
                await self._supervisor.refresh_slow_tier(gateway_id)
        except Exception as exc:  # the next delay tries again; never end the task group
            log.debug("gateway %s: follow-up refresh failed: %s", gateway_id, type(exc).__name__)
            return False
        state = self._supervisor.control_state(gateway_id)
        expected = self._expected.get(gateway_id, ())
        return all(shows(control, read_back(control, state), value) for control, value in expected)
