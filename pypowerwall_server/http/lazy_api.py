"""The full FastAPI app, built in a worker thread the first time a request needs it.

Importing FastAPI and declaring its ~120 routes costs about 0.5 s and 10 MiB on a small
machine. Hot GETs and the WebSocket streams never need it (http/hot_asgi.py answers them), so
the first data is served without waiting for it, and a server polled only by Telegraf never
loads it. Other requests wait for the build once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from pypowerwall_server.http.asgi import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


class LazyApp:
    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()
        self._building: asyncio.Future[ASGIApp] | None = None

    @property
    def built(self) -> bool:
        return self._app is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or await self.ready()
        await app(scope, receive, send)

    async def ready(self) -> ASGIApp:
        """The app, building it first (once; concurrent callers share the build)."""
        if self._app is not None:
            return self._app
        if self._building is None or self._building.get_loop() is not asyncio.get_running_loop():
            self._building = asyncio.ensure_future(asyncio.to_thread(self.build_now))
            self._building.add_done_callback(self._forget_failure)
        # Shielded: a client that gives up must not cancel the build for the others.
        return await asyncio.shield(self._building)

    def _forget_failure(self, building: asyncio.Future[ASGIApp]) -> None:
        if not building.cancelled() and building.exception() is not None:
            self._building = None  # the next request tries again (and fails visibly again)

    def build_now(self) -> ASGIApp:
        with self._lock:
            if self._app is None:
                log.debug("building the full API")
                self._app = self._build()
            return self._app
