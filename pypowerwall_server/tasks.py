"""Named background tasks owned by the lifespan (docs/architecture.md, decision 8): a task that
crashes is logged once and restarted with backoff, never disappears silently; leaving the context
cancels it and waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from pypowerwall_server.backoff import Backoff, restart_with_backoff

log = logging.getLogger(__name__)
RESTART_BACKOFF_S = (1.0, 60.0)  # first delay, cap (doubling in between)
STOP_WAIT_S = 3.0  # how long leaving the context waits for the cancelled task


@contextlib.asynccontextmanager
async def background(
    name: str,
    run: Callable[[], Awaitable[None]],
    backoff: tuple[float, float] = RESTART_BACKOFF_S,
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(_restarting(name, run, backoff), name=name)
    try:
        yield task
    finally:
        task.cancel()
        # Bounded: a task that swallows its cancellation must not hold shutdown (SIGTERM has
        # a few seconds before Docker's SIGKILL).
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task}, timeout=STOP_WAIT_S)
        if not task.done():
            log.warning("task %s did not stop within %.0f s; leaving it", name, STOP_WAIT_S)


async def _restarting(
    name: str, run: Callable[[], Awaitable[None]], backoff: tuple[float, float]
) -> None:
    def crashed(_: Exception, delay: float) -> None:
        log.exception("task %s crashed; restarting in %.0f s", name, delay)

    await restart_with_backoff(run, Backoff(*backoff), crashed)
