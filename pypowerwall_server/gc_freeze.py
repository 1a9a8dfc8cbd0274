"""Start-up's objects out of the garbage collector's way.

What the server builds while it starts (settings, pypowerwall and its protobuf modules, the
routes, the pollers and their sessions) lives as long as the process, yet every full
collection walks all of it again: one of 40-55 ms in each abused window of the abuse
benchmark, on the event loop. Once every gateway has been polled (or after FREEZE_LATEST_S),
one collection and then gc.freeze() move it to the permanent generation, which collections
skip. Reference counting still frees what is dropped later; only cycles among the frozen
objects would stay, and start-up's garbage is collected first. With it the abused p99 fell
from 2.15-2.47x to 1.85x the quiet one (BENCHMARKS.md, 2026-11-30).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable

from pypowerwall_server.hub import Hub

log = logging.getLogger(__name__)
FREEZE_LATEST_S = 60.0  # a gateway that is never reached does not hold it longer
SETTLE_S = 2.0  # after the first polls: the collection must not delay the first answers


def collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()
    log.debug("start-up objects frozen: %d", gc.get_freeze_count())


async def freeze_after_start(
    hub: Hub,
    freeze: Callable[[], None] = collect_and_freeze,
    latest_s: float = FREEZE_LATEST_S,
    settle_s: float = SETTLE_S,
) -> None:
    """Wait until every gateway has had its first poll, then `freeze` once."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(latest_s):
            async for _ in hub.updates():
                if all(state.last_attempt is not None for state in hub.states()):
                    break
    await asyncio.sleep(settle_s)
    freeze()
