"""One transport's own thread, so a hung transport cannot hold up its fallback.

A gateway with several transports runs each transport's calls on that transport's own daemon
thread, one call at a time (its library connection is not thread-safe), and waits at most a
deadline. A call that outlives the deadline counts as failed and keeps its thread until the
library gives up; until then, further calls on that transport fail at once instead of
queueing. Threads: one per transport of a multi-transport gateway, created on first use.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from pypowerwall_server.errors import GatewayUnreachable
from pypowerwall_server.gateway.daemon_threads import DaemonThreadPool

T = TypeVar("T")


class LinkWorker:
    def __init__(self, name: str, deadline: float) -> None:
        self._name = name
        self._deadline = deadline
        self._pool = DaemonThreadPool(1, f"transport-{name}")
        self._busy: Future[Any] | None = None

    def call(self, fn: Callable[[], T], bounded: bool = True) -> T:
        """fn() on this transport's thread; GatewayUnreachable when it is still busy with an
        earlier call or, when `bounded`, does not finish within the deadline (a write is
        not bounded here: its caller bounds the wait and must not be told "failed" while
        it may still land)."""
        if self._busy is not None and not self._busy.done():
            raise GatewayUnreachable(f"{self._name}: an earlier call has not returned yet")
        future = self._pool.submit(fn)
        self._busy = future
        try:
            return future.result(timeout=self._deadline if bounded else None)
        except concurrent.futures.TimeoutError:
            raise GatewayUnreachable(
                f"{self._name} did not answer within {self._deadline:g} s"
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
