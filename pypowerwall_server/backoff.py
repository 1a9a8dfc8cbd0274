"""Restart with backoff, the one policy for everything the server keeps running: background
tasks (tasks.py), each gateway's poller (gateway/supervisor.py) and the MQTT connection
(mqtt/publisher.py). The delay starts at `first`, doubles after each failure up to `cap`,
and starts again at `first` once the work has recovered (docs/architecture.md, decision 8).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Backoff:
    """Delays between attempts: first, twice that, ... up to cap; reset() after a success."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap = first, cap
        self.delay = first

    def next_delay(self) -> float:
        """The delay to wait now; the next one doubles (up to the cap)."""
        delay, self.delay = self.delay, min(self.cap, self.delay * 2)
        return delay

    def reset(self) -> None:
        self.delay = self.first


async def restart_with_backoff(
    run: Callable[[], Awaitable[None]],
    backoff: Backoff,
    on_failure: Callable[[Exception, float], None],
    recovered: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run `run` until it returns; when it raises, tell `on_failure` (the exception and the
    delay before the next attempt), wait, and run it again. `recovered()` is asked after
    each failure: when the run had made progress before it failed, the delays start over.
    Cancellation is never swallowed."""
    while True:
        try:
            await run()
            return
        except Exception as exc:
            if recovered():
                backoff.reset()
            delay = backoff.next_delay()
            on_failure(exc, delay)
        await sleep(delay)
