"""create_app(settings) → the ASGI application; the lifespan owns every background task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pypowerwall_server import __version__
from pypowerwall_server.api import routes_gateways, routes_health, routes_legacy, routes_ws
from pypowerwall_server.api.answer import error_answer
from pypowerwall_server.api.fastpath import FastPath
from pypowerwall_server.api.hot_routes import hot_routes
from pypowerwall_server.api.runtime import Runtime
from pypowerwall_server.api.stats import RequestStats
from pypowerwall_server.api.views import AggregateViews
from pypowerwall_server.errors import ServerError
from pypowerwall_server.gateway.adapter import PypowerwallAdapter
from pypowerwall_server.gateway.poller import GatewayState, Poller
from pypowerwall_server.gateway.protocol import GatewayAdapter
from pypowerwall_server.gateway.schedule import poll_plan, poll_timeout, worker_threads
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import LegacyOptions
from pypowerwall_server.settings import GatewayConfig, Settings
from pypowerwall_server.streams import StreamConfig, start_streams

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
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Streams close their clients before the pollers stop.
        async with (
            _pollers(settings, hub, adapter_factory, clock),
            start_streams(hub, settings.server.cors_origins, stream_config) as streams,
        ):
            app.state.streams = streams
            yield

    api = FastAPI(
        title="pypowerwall-server",
        version=__version__,
        description="Tesla Powerwall gateways, polled gently and served from memory.",
        lifespan=lifespan,
    )
    api.state.runtime = runtime
    _install_error_handlers(api)
    if settings.server.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.server.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    api.include_router(routes_health.router)
    api.include_router(routes_gateways.router)
    api.include_router(routes_ws.router)
    api.include_router(routes_legacy.router)  # last: it ends in a catch-all
    return FastPath(api, hot_routes(runtime), runtime.stats, bool(settings.server.cors_origins))


@contextlib.asynccontextmanager
async def _pollers(
    settings: Settings, hub: Hub, adapter_factory: AdapterFactory, clock: Callable[[], float]
) -> AsyncIterator[None]:
    executor = ThreadPoolExecutor(worker_threads(len(settings.gateways)), "gateway")
    adapters = [adapter_factory(g) for g in settings.gateways]
    plan = poll_plan()
    pollers = [
        Poller(hub.get(g.id), a, executor, plan, hub.publish, poll_timeout(g), clock)
        for g, a in zip(settings.gateways, adapters, strict=True)
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


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ServerError)
    async def server_error(_: Request, exc: ServerError) -> Response:
        return error_answer(exc.status_code, exc.message).to_response()

    @api.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return error_answer(422, f"invalid request: {problems}").to_response()

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return error_answer(exc.status_code, str(exc.detail)).to_response()


def run_server(settings: Settings) -> None:
    """Serve until interrupted (the CLI's default action)."""
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=settings.server.bind_address,
        port=settings.server.port,
        loop="uvloop",
        http="httptools",
        log_level="debug" if settings.server.debug else "info",
        access_log=settings.server.debug,
        log_config=None,  # uvicorn's records go through our handlers (and secret scrubber)
        ws_per_message_deflate=False,  # compressing per client costs 10x the CPU at 5,000 clients
        lifespan="on",
    )
