"""The gateway supervisor: one object, owned by the app's lifespan, that holds every
gateway's adapter, poller and serial worker, and the bounded thread pool they share
(docs/architecture.md, decisions 2 and 8).

- `state(gateway_id)`: the gateway's newest state (as published to the hub).
- `submit(gateway_id, operation, timeout)`: run a blocking operation (a control write) with
  the gateway's write connection (gateway/writer.py; without a writer factory, the one that
  reads), on its serial worker, never at the same time as its poll, within a timeout;
  failures come back as our error classes (errors.py).
- `refresh_slow_tier(gateway_id)`: poll the slow tier now (after a write) and get the state
  that poll published.
- A poller task that raises is restarted with backoff; the crash is logged once per run of
  crashes, and again only once the poller has recovered and crashed anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pypowerwall_server.backoff import Backoff, restart_with_backoff
from pypowerwall_server.errors import GatewayError, GatewayTimeout, GatewayUnreachable
from pypowerwall_server.gateway.daemon_threads import DaemonThreadPool, close_within
from pypowerwall_server.gateway.poller import Poller
from pypowerwall_server.gateway.protocol import GatewayAdapter, OrderedTransports
from pypowerwall_server.gateway.schedule import poll_phases, poll_plan, poll_timeout, worker_threads
from pypowerwall_server.gateway.worker import GatewayWorker
from pypowerwall_server.gateway.writer import GatewayWriter
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.settings import GatewayConfig

log = logging.getLogger(__name__)
T = TypeVar("T")
AdapterFactory = Callable[[GatewayConfig], GatewayAdapter]
# The connection a gateway's writes go through, given the adapter that reads it.
WriterFactory = Callable[[GatewayConfig, GatewayAdapter], GatewayWriter]
# Runs in a worker thread with the gateway's library connection (pypowerwall.Powerwall for
# the real adapter; control/operations.py's PowerwallWriter); may block.
Operation = Callable[[Any], T]
RESTART_BACKOFF_S = (1.0, 60.0)  # first delay, cap (doubling in between)
CLOSE_DEADLINE_S = 1.0  # for all gateways' logouts together; SIGTERM must end within 3 s


@dataclass(frozen=True, slots=True)
class SupervisedGateway:
    config: GatewayConfig
    adapter: GatewayAdapter
    worker: GatewayWorker
    poller: Poller
    writer: GatewayWriter


class GatewaySupervisor:
    def __init__(
        self,
        gateways: tuple[GatewayConfig, ...],
        hub: Hub,
        adapter_factory: AdapterFactory,
        clock: Callable[[], float] = time.time,
        restart_backoff: tuple[float, float] = RESTART_BACKOFF_S,
        writer_factory: WriterFactory | None = None,
    ) -> None:
        self.hub = hub
        self.threads = worker_threads(len(gateways))
        self._configs = gateways
        self._adapter_factory = adapter_factory
        self._writer_factory = writer_factory or _reader_writes
        self._clock = clock
        self._restart_backoff = restart_backoff
        self._gateways: dict[str, SupervisedGateway] = {}  # while running
        self._tasks: list[asyncio.Task[None]] = []

    # --- what routes and publishers use ---------------------------------------------------
    def state(self, gateway_id: str) -> GatewayState:
        return self.hub.get(gateway_id)

    async def submit(self, gateway_id: str, operation: Operation[T], timeout: float) -> T:
        """Run `operation(connection)` on the gateway's worker, after any call in flight and
        never concurrently with a poll. Raises UnknownGateway; GatewayTimeout (also a
        TimeoutError) when it does not finish within `timeout` seconds (if it had not
        started, it never will); GatewayBusy when it could not start in time; a library
        failure as the adapter classified it; any other exception as GatewayError."""
        gateway = self._gateway(gateway_id)
        deadline = time.monotonic() + timeout
        future = gateway.worker.submit_before(deadline, lambda: gateway.writer.run(operation))
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.cancel()  # not started yet: it never will be
            raise GatewayTimeout(
                f"gateway '{gateway_id}' did not answer within {timeout:g} s"
            ) from None
        except GatewayError:
            raise
        except Exception as exc:
            log.debug("gateway %s: operation failed", gateway_id, exc_info=True)
            raise GatewayError(
                f"operation on gateway '{gateway_id}' failed: {type(exc).__name__}"
            ) from None

    async def refresh_slow_tier(
        self, gateway_id: str, timeout: float | None = None
    ) -> GatewayState:
        """Poll the gateway's slow tier now (it waits for a call in flight); the state that
        poll published. Raises UnknownGateway, or GatewayTimeout when no such poll ends
        within `timeout` seconds (None: the caller bounds the wait)."""
        waiter = self._gateway(gateway_id).poller.refresh_slow_tier()
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)  # a caller giving up leaves the poll be
        except TimeoutError:
            raise GatewayTimeout(
                f"gateway '{gateway_id}' was not polled within {timeout:g} s"
            ) from None

    # --- lifecycle ------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[GatewaySupervisor]:
        """Poll every gateway for the duration of the block (the app's lifespan): adapters,
        workers and the pool live exactly that long."""
        pool = DaemonThreadPool(self.threads, "gateway")
        self._gateways = self._build(pool)
        self._tasks = [
            asyncio.create_task(self._supervise(g.poller), name=f"poller:{gid}")
            for gid, g in self._gateways.items()
        ]
        try:
            yield self
        finally:
            await self._stop(pool)

    def _build(self, pool: DaemonThreadPool) -> dict[str, SupervisedGateway]:
        phases = poll_phases([g.poll_interval for g in self._configs], self.threads)
        gateways: dict[str, SupervisedGateway] = {}
        for config, phase in zip(self._configs, phases, strict=True):
            adapter = self._adapter_factory(config)
            if isinstance(adapter, OrderedTransports):  # fail over before clients see stale data
                adapter.keep_fresh(self.hub.freshness.stale_after_intervals)
            worker = GatewayWorker(pool, config.id)
            poller = Poller(
                self.hub.get(config.id),
                adapter,
                worker,
                poll_plan(config.write_transport is not None),
                self.hub.publish,
                poll_timeout(config),
                self._clock,
                on_start=self.hub.poll_started,
                phase=phase,
            )
            writer = self._writer_factory(config, adapter)
            gateways[config.id] = SupervisedGateway(config, adapter, worker, poller, writer)
        return gateways

    async def _supervise(self, poller: Poller) -> None:
        """Run the poller; restart it with backoff when it raises."""
        gateway_id = poller.state.gateway_id
        polls_before, crashes = poller.state.polls, 0

        def recovered() -> bool:
            """Whether it had polled since the last crash: a new run of crashes."""
            nonlocal polls_before, crashes
            polled, polls_before = poller.state.polls > polls_before, poller.state.polls
            if polled:
                crashes = 0
            return polled

        def crashed(_: Exception, delay: float) -> None:
            nonlocal crashes
            crashes += 1
            if crashes == 1:
                log.exception("gateway %s: poller crashed; restarting", gateway_id)
            else:
                log.debug("gateway %s: poller crashed again (%d)", gateway_id, crashes)

        await restart_with_backoff(poller.run, Backoff(*self._restart_backoff), crashed, recovered)

    async def _stop(self, pool: DaemonThreadPool) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        gateways, self._gateways, self._tasks = self._gateways, {}, []
        # Don't wait for calls stuck on a hung gateway: the threads are daemons.
        pool.shutdown(wait=False, cancel_futures=True)
        own_writers = [g.writer for g in gateways.values() if g.writer is not g.adapter]
        adapters = [g.adapter for g in gateways.values()]
        await close_within([*adapters, *own_writers], CLOSE_DEADLINE_S)

    def _gateway(self, gateway_id: str) -> SupervisedGateway:
        gateway = self._gateways.get(gateway_id)
        if gateway is not None:
            return gateway
        self.hub.get(gateway_id)  # raises UnknownGateway for an id that is not configured
        raise GatewayUnreachable(f"gateway '{gateway_id}' is not being polled (shutting down)")


def _reader_writes(config: GatewayConfig, reader: GatewayAdapter) -> GatewayWriter:
    return reader
