"""create_app(settings) → the ASGI application; its lifespan owns every background task."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pypowerwall_server.api.fastpath import FastPath
from pypowerwall_server.api.full_app import build_api
from pypowerwall_server.api.hot_routes import hot_routes
from pypowerwall_server.api.lazy import LazyApp
from pypowerwall_server.api.runtime import Runtime
from pypowerwall_server.api.stats import RequestStats
from pypowerwall_server.api.views import AggregateViews
from pypowerwall_server.api.ws_endpoints import stream_endpoints
from pypowerwall_server.gateway.adapter import PypowerwallAdapter
from pypowerwall_server.gateway.poller import GatewayState, Poller
from pypowerwall_server.gateway.protocol import GatewayAdapter
from pypowerwall_server.gateway.schedule import (
    poll_phases,
    poll_plan,
    poll_timeout,
    worker_threads,
)
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import LegacyOptions
from pypowerwall_server.settings import GatewayConfig, Settings
from pypowerwall_server.streams import StreamConfig, start_streams

if TYPE_CHECKING:
    from pypowerwall_server.server_tls import HttpsSetup

log = logging.getLogger(__name__)
AdapterFactory = Callable[[GatewayConfig], GatewayAdapter]


def default_adapter_factory(config: GatewayConfig) -> GatewayAdapter:
    # The library's cache must expire before our next tick, or a poll could re-read it.
    return PypowerwallAdapter(config, cache_expire=config.poll_interval * 0.8)


def create_app(
    settings: Settings,
    adapter_factory: AdapterFactory = default_adapter_factory,
    clock: Callable[[], float] = time.time,
    stream_config: StreamConfig | None = None,
) -> FastPath:
    states = [GatewayState(g.id, g.name, g.mode, g.poll_interval) for g in settings.gateways]
    hub = Hub(states, settings.server.stale_after_intervals, clock)
    options = LegacyOptions(settings.server.neg_solar, settings.server.site_zero_threshold)
    runtime = Runtime(settings, hub, AggregateViews(hub), RequestStats(), options)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        # Streams close their clients before the pollers stop.
        async with (
            _pollers(settings, hub, adapter_factory, clock),
            start_streams(hub, settings.server.cors_origins, stream_config) as streams,
        ):
            runtime.live.streams = streams
            try:
                yield
            finally:
                runtime.live.streams = None

    return FastPath(
        LazyApp(functools.partial(build_api, runtime)),
        hot_routes(runtime),
        runtime,
        lifespan=lifespan,
        websocket=stream_endpoints(runtime),
    )


@contextlib.asynccontextmanager
async def _pollers(
    settings: Settings, hub: Hub, adapter_factory: AdapterFactory, clock: Callable[[], float]
) -> AsyncIterator[None]:
    threads = worker_threads(len(settings.gateways))
    executor = ThreadPoolExecutor(threads, "gateway")
    adapters = [adapter_factory(g) for g in settings.gateways]
    plan = poll_plan()
    phases = poll_phases([g.poll_interval for g in settings.gateways], threads)
    pollers = [
        Poller(
            hub.get(g.id),
            a,
            executor,
            plan,
            hub.publish,
            poll_timeout(g),
            clock,
            on_start=hub.poll_started,
            phase=phase,
        )
        for g, a, phase in zip(settings.gateways, adapters, phases, strict=True)
    ]
    tasks = [asyncio.create_task(p.run(), name=f"poller:{p.state.gateway_id}") for p in pollers]
    for task in tasks:
        task.add_done_callback(_report_crash)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Don't wait for calls stuck on a hung gateway; their threads end at the library timeout.
        executor.shutdown(wait=False, cancel_futures=True)
        for adapter in adapters:
            with contextlib.suppress(Exception):
                adapter.close()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s crashed", task.get_name(), exc_info=task.exception())


def run_server(settings: Settings, https: HttpsSetup | None = None) -> None:
    """Serve until SIGTERM/SIGINT (the CLI's default action); HTTPS too with `https`."""
    from pypowerwall_server.listeners import serve

    serve(create_app(settings), settings, https)
