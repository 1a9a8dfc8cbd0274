"""One transport's own thread, so a hung transport cannot hold up its fallback.

A gateway with several transports runs each transport's calls on that transport's own daemon
thread, one call at a time (its library connection is not thread-safe), and waits at most a
deadline (the chain gives each call its own: gateway/transports.py). A call that outlives
its deadline counts as failed and keeps its thread until the
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
    def __init__(self, name: str) -> None:
        self._name = name
        self._pool = DaemonThreadPool(1, f"transport-{name}")
        self._busy: Future[Any] | None = None

    def call(self, fn: Callable[[], T], deadline: float | None) -> T:
        """fn() on this transport's thread; GatewayUnreachable when it is still busy with an
        earlier call or does not finish within `deadline` seconds (None, for a write: its
        caller bounds the wait and must not be told "failed" while it may still land)."""
        if self._busy is not None and not self._busy.done():
            raise GatewayUnreachable(f"{self._name}: an earlier call has not returned yet")
        future = self._pool.submit(fn)
        self._busy = future
        try:
            return future.result(timeout=deadline)
        except concurrent.futures.TimeoutError:
            raise GatewayUnreachable(f"{self._name} did not answer within {deadline:g} s") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
