"""Build an app with the WebSocket streams wired in, for the stream tests.

Until app.py's lifespan enters start_streams itself, this adds the router and wraps the
lifespan the way app.py is asked to (see docs/websocket.md, "Wiring").
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from pypowerwall_server.api import routes_ws
from pypowerwall_server.api.fastpath import FastPath
from pypowerwall_server.app import create_app
from pypowerwall_server.settings import Settings
from pypowerwall_server.streams import StreamConfig, start_streams

# Fast timings so tests end in seconds; the production defaults are in StreamConfig.
FAST = StreamConfig(
    min_interval=0.05, gather=0.0, heartbeat_interval=0.3, stale_check_interval=0.05
)


def streams_app(
    settings: Settings, adapter_factory: Callable[[Any], Any], config: StreamConfig = FAST
) -> FastPath:
    app = create_app(settings, adapter_factory=adapter_factory)
    api: Any = app.app
    api.include_router(routes_ws.router)
    hub = api.state.runtime.hub
    inner = api.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(instance: Any) -> AsyncIterator[None]:
        origins = settings.server.cors_origins
        async with inner(instance), start_streams(hub, origins, config) as streams:
            instance.state.streams = streams
            yield

    api.router.lifespan_context = lifespan
    return app
