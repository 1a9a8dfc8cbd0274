"""A plain ASGI layer in front of FastAPI for hot GETs (DESIGN.md decision 1).

FastAPI matches routes one by one; with ~120 routes a route returning ready bytes runs at
~0.14x a raw ASGI app. Here the raw path (with its query string) is looked up in a dict of
answer functions, which return the current Snapshot's pre-encoded bytes; everything else
falls through to FastAPI, where the same routes are declared (for /docs) and call the same
functions, so both paths give identical bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from pypowerwall_server.api.answer import Answer
from pypowerwall_server.api.stats import RequestStats
from pypowerwall_server.streams.direct import RAW_SEND_KEY

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
AnswerFn = Callable[[], Answer]


class FastPath:
    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[str, AnswerFn],
        stats: RequestStats,
        cors_enabled: bool,
    ) -> None:
        self.app = app
        self.routes = routes
        self.stats = stats
        # With CORS configured, requests carrying an Origin go through FastAPI's middleware.
        self.cors_enabled = cors_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
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
        if scope["type"] == "websocket":
            # The server's own send, before any middleware wraps it: the streams' fan-out
            # reaches the connection's transport through it (streams/direct.py).
            scope[RAW_SEND_KEY] = send
        await self.app(scope, receive, send)

    def _counting(self, scope: Scope, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                self.stats.count(getattr(route, "path", "unmatched"), message["status"])
            await send(message)

        return wrapped


def _route_key(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    path: str = scope["path"]
    return f"{path}?{query.decode('latin-1')}" if query else path


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])
