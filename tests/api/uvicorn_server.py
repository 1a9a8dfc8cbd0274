"""A real uvicorn server for tests: its own thread and event loop, bound to loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn
import uvloop

from tests.waiting import wait_until


class Server:
    """A real uvicorn in a thread, on a loopback socket."""

    def __init__(
        self,
        app: Any,
        use_uvloop: bool = False,
        make_server: Callable[[uvicorn.Config], uvicorn.Server] = uvicorn.Server,
        **options: Any,
    ) -> None:
        self.use_uvloop = use_uvloop  # production runs uvloop (run_server)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        options = {"log_level": "warning", "lifespan": "on", "ws_ping_interval": None, **options}
        config = uvicorn.Config(app, **options)
        self.server = make_server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.served = threading.Event()  # serve() returned: shutdown complete
        self.app = app

    def _run(self) -> None:
        if self.use_uvloop:
            loop = uvloop.new_event_loop()
            try:
                loop.run_until_complete(self._serve())
            finally:
                loop.close()
        else:
            asyncio.run(self._serve())

    async def _serve(self) -> None:
        await self.server.serve(sockets=[self.sock])
        self.served.set()

    def __enter__(self) -> Server:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=10)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.served.wait(10)
        self.thread.join(5)

    def __exit__(self, *args: object) -> None:
        self.stop()

    @property
    def streams(self) -> Any:
        return self.app.services.live.streams
