"""/mcp as one ASGI endpoint of the full API, built on the first request to it.

The MCP SDK is imported and the server built only when a client first calls /mcp: a server
nobody asks over MCP pays nothing, and hot GETs never pass here. The SDK's session manager
must run for as long as the app does, so the app's lifespan runs `run()`, which waits for
that first request, then holds the manager open until shutdown. Stateless Streamable HTTP
with JSON answers: every POST is complete in itself, nothing is kept between requests.

The Host rule is the server's own (checked in the HTTP protocol for every request). The
Origin rule is the WebSocket streams': a browser page from another origin is refused
(403), unless listed in cors_origins; clients without Origin (assistants, scripts) pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson

from pypowerwall_server.http.asgi import ASGIApp, Receive, Scope, Send
from pypowerwall_server.streams.origin import origin_allowed

# Builds the SDK's app and its session manager's run() (assistant/serve.py, via app.py).
Build = Callable[[], tuple[ASGIApp, Callable[[], AbstractAsyncContextManager[None]]]]
log = logging.getLogger(__name__)
PATH = "/mcp"
METHODS = ("GET", "POST", "DELETE")
READY_TIMEOUT_S = 30.0  # building the server on the first request: the SDK import


class McpEndpoint:
    def __init__(self, allowed_origins: tuple[str, ...], build: Build) -> None:
        self._allowed_origins = allowed_origins
        self._build = build
        self._app: ASGIApp | None = None
        self._wanted: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None

    @property
    def built(self) -> bool:
        return self._app is not None

    async def run(self) -> None:
        """The lifespan task: build on the first request, then keep the SDK's session
        manager running until cancelled."""
        wanted, ready = self._events()
        await wanted.wait()
        app, running = await asyncio.to_thread(self._build)
        async with running():
            self._app = app
            ready.set()
            log.info("MCP endpoint ready at %s", PATH)
            await asyncio.Event().wait()  # until the app stops (cancelled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        if not origin_allowed(headers.get("origin"), headers.get("host"), self._allowed_origins):
            await _json(send, 403, {"error": "origin not allowed"})
            return
        app = self._app or await self._wait_ready()
        if app is None:
            await _json(send, 503, {"error": "the MCP endpoint is not running (starting?)"})
            return
        await app(scope, receive, send)

    async def _wait_ready(self) -> ASGIApp | None:
        wanted, ready = self._events()
        wanted.set()
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await ready.wait()
        except TimeoutError:
            return None
        return self._app

    def _events(self) -> tuple[asyncio.Event, asyncio.Event]:
        if self._wanted is None or self._ready is None:
            self._wanted, self._ready = asyncio.Event(), asyncio.Event()
        return self._wanted, self._ready


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
