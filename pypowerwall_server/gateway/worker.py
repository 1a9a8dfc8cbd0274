"""One gateway's serial worker on the shared thread pool (docs/architecture.md, decision 2).

Every blocking call to a gateway (its polls, and operations submitted through the
supervisor such as control writes) runs through the gateway's GatewayWorker, which holds
the gateway's lock while the call runs: calls to one gateway never overlap (keep-alive
reuse, no contention inside pypowerwall), while different gateways share the bounded pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from pypowerwall_server.errors import GatewayBusy

T = TypeVar("T")


class GatewayWorker(Executor):
    def __init__(self, pool: Executor, gateway_id: str) -> None:
        self._pool = pool
        self._gateway_id = gateway_id
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run `fn` once the gateway's previous call has ended (the poller's own calls:
        it never has two in flight, so it never queues behind itself for long)."""
        return self._pool.submit(self._serially, None, fn, *args, **kwargs)

    def submit_before(self, deadline: float, fn: Callable[[], T]) -> Future[T]:
        """Run `fn` only if it can start before `deadline` (time.monotonic()); else the
        future fails with GatewayBusy and `fn` never runs (a write that timed out for its
        caller must not happen later)."""
        return self._pool.submit(self._serially, deadline, fn)

    def _serially(
        self, deadline: float | None, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=wait):
            raise GatewayBusy(f"gateway '{self._gateway_id}' is busy with another call")
        try:
            if deadline is not None and time.monotonic() > deadline:
                raise GatewayBusy(f"gateway '{self._gateway_id}' is busy with another call")
            return fn(*args, **kwargs)
        finally:
            self._lock.release()
