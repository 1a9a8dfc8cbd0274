"""The hot ASGI app: the ASGI app the server runs, a plain layer in front of FastAPI
(layers: http/__init__.py; docs/architecture.md, decision 1).

FastAPI matches routes one by one; with ~120 routes a route returning ready bytes runs at
~0.14x a raw ASGI app. Here the raw path (with its query string) is looked up in a dict of
answer functions, which return the current Snapshot's pre-encoded bytes; the WebSocket
streams are dispatched by path too. Everything else falls through to FastAPI (built on first
use, http/lazy_api.py), where the same routes are declared (for /docs) and call the same
functions, so both paths give identical bytes. The lifespan (pollers, streams) is run here,
so it does not wait for FastAPI either.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager

from pypowerwall_server.encoded_answer import AnswerFn
from pypowerwall_server.http.admission import Admission
from pypowerwall_server.http.asgi import ASGIApp, Message, Receive, Scope, Send
from pypowerwall_server.services import AppServices
from pypowerwall_server.streams.direct import RAW_SEND_KEY

log = logging.getLogger(__name__)

Lifespan = Callable[[], AbstractAsyncContextManager[None]]


class HotApp:
    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[str, AnswerFn],
        services: AppServices,
        lifespan: Lifespan | None = None,
        websocket: Callable[[str], ASGIApp | None] | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        # Rate limit and read token (http/admission.py), None when both are off. The hot
        # protocol answers in its parser only the hot GETs these could not refuse.
        self.admission = admission
        self.protocol_routes = routes
        if admission is not None:
            self.protocol_routes = {
                key: fn
                for key, fn in routes.items()
                if admission.protocol_may_answer(key.partition("?")[0])
            }
        self.services = services
        self.stats = services.stats
        # With CORS configured, requests carrying an Origin go through FastAPI's middleware.
        self.cors_enabled = bool(services.settings.server.cors_origins)
        self.lifespan = lifespan
        self.websocket = websocket  # path → stream endpoint, or None for FastAPI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (
            self.admission is not None
            and kind != "lifespan"
            and not await self.admission.admit(scope, receive, send)
        ):
            return
        if kind == "http" and scope["method"] in ("GET", "HEAD"):
            fn = self.routes.get(_route_key(scope))
            if fn is not None and not (self.cors_enabled and _has_origin(scope)):
                answer = fn()
                self.stats.count(scope["path"], answer.status)
                await send(
                    {
                        "type": "http.response.start",
                        "status": answer.status,
                        "headers": answer.raw_headers,
                    }
                )
                body = answer.body if scope["method"] == "GET" else b""
                await send({"type": "http.response.body", "body": body})
                return
            await self.app(scope, receive, self._counting(scope, send))
            return
        if kind == "websocket":
            # The server's own send, before any middleware wraps it: the streams' fan-out
            # reaches the connection's transport through it (streams/direct.py).
            scope[RAW_SEND_KEY] = send
            endpoint = self.websocket(scope["path"]) if self.websocket else None
            await (endpoint or self.app)(scope, receive, send)
            return
        if kind == "lifespan" and self.lifespan is not None:
            await run_lifespan(self.lifespan, receive, send)
            return
        await self.app(scope, receive, send)

    def _counting(self, scope: Scope, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                self.stats.count(getattr(route, "path", "unmatched"), message["status"])
            await send(message)

        return wrapped


async def run_lifespan(lifespan: Lifespan, receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol around one async context manager."""
    stack = contextlib.AsyncExitStack()
    await receive()  # lifespan.startup
    try:
        await stack.enter_async_context(lifespan())
    except Exception as exc:
        log.exception("startup failed")
        await send({"type": "lifespan.startup.failed", "message": str(exc)})
        return
    await send({"type": "lifespan.startup.complete"})
    await receive()  # lifespan.shutdown
    try:
        await stack.aclose()
    except Exception as exc:
        log.exception("shutdown failed")
        await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
        return
    await send({"type": "lifespan.shutdown.complete"})


def _route_key(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    path: str = scope["path"]
    return f"{path}?{query.decode('latin-1')}" if query else path


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])
