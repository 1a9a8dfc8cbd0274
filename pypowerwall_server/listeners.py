"""The listening sockets: plain HTTP always, and the same app over TLS beside it when asked.

uvicorn serves one listener per Server, so HTTPS is a second Server in the same event loop
and process (one hub, one set of pollers, one stream service). The HTTP server is the
primary: it owns the signals (SIGTERM/SIGINT) and the lifespan; the HTTPS server only
serves, starts once the lifespan is up, and is stopped and awaited before the lifespan
shuts down, so the pollers end after both listeners closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import uvicorn

from pypowerwall_server.http.client_limits import ClientLimits, fit_descriptor_limit
from pypowerwall_server.http.guarded_protocol import ConnectionCap
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.http.server_options import uvicorn_options
from pypowerwall_server.http.tls_accept import TlsAccept
from pypowerwall_server.log_limit import install_client_noise_filter
from pypowerwall_server.settings import Settings

if TYPE_CHECKING:  # cryptography (~8 MiB) is loaded only when HTTPS is on (cli.py)
    from pypowerwall_server.server_tls import HttpsSetup

log = logging.getLogger(__name__)


class HttpsServer(uvicorn.Server):
    """Serves TLS on its own socket; the primary decides when it stops. Its handshakes are
    bounded like a request head (asyncio's default, 60 s, let a client that sends one byte
    hold a descriptor for a minute) and count against the connection cap
    (http/tls_accept.py)."""

    def __init__(self, config: uvicorn.Config, handshake_timeout_s: float) -> None:
        super().__init__(config)
        self.handshake_timeout_s = handshake_timeout_s
        self.tls_accept: TlsAccept | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's startup for given sockets (no lifespan: the primary runs it), with TLS
        accepted by http/tls_accept.py."""
        config, loop = self.config, asyncio.get_running_loop()

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )

        if config.ssl is None:
            raise RuntimeError("the HTTPS listener needs a TLS context")
        cap: ConnectionCap | None = getattr(config.http_protocol_class, "cap", None)
        self.tls_accept = accept = TlsAccept(
            create_protocol,
            config.ssl,
            self.handshake_timeout_s,
            cap.full if cap is not None else (lambda _open: False),
            lambda: len(self.server_state.connections),
        )
        self.servers = [
            await loop.create_server(accept.protocol, sock=sock, backlog=config.backlog)
            for sock in sockets or []
        ]
        self.started = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.tls_accept is not None:
            self.tls_accept.close_all()
        await super().shutdown(sockets)


class _Primary(uvicorn.Server):
    """The HTTP server; starts its companions after the lifespan, stops them before it ends."""

    def __init__(
        self, config: uvicorn.Config, companions: list[tuple[HttpsServer, socket.socket]]
    ) -> None:
        super().__init__(config)
        self._companions = companions
        self._tasks: list[asyncio.Task[None]] = []

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for companion, sock in self._companions:
            task = asyncio.create_task(companion.serve([sock]), name="listener:https")
            task.add_done_callback(self._companion_ended)
            self._tasks.append(task)

    def _companion_ended(self, task: asyncio.Task[None]) -> None:
        if not self.should_exit:  # a listener that ends on its own takes the process down
            log.error("the %s listener stopped; shutting down", task.get_name())
            self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for companion, _ in self._companions:
            companion.should_exit = True
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().shutdown(sockets)


def _config(
    app: HotApp,
    settings: Settings,
    port: int,
    *,
    limits: ClientLimits | None = None,
    http: type[Any] | None = None,
    **options: Any,
) -> uvicorn.Config:
    limits = limits or ClientLimits()
    chosen = {**uvicorn_options(app, settings, limits, http), "port": port}
    return uvicorn.Config(app, **chosen, **options)


def serve(app: HotApp, settings: Settings, https: HttpsSetup | None = None) -> None:
    """Serve until SIGTERM/SIGINT: HTTP on the port, and HTTPS on https_port when asked."""
    limits = ClientLimits(max_connections=fit_descriptor_limit(settings.server.max_connections))
    install_client_noise_filter()
    # One protocol class for both listeners: one head watch, one log of refusals.
    http = hot_protocol(app, limits)
    companions = []
    if https is not None:
        files = https.files
        config = _config(
            app,
            settings,
            settings.server.https_port,
            limits=limits,
            http=http,
            lifespan="off",
            ssl_certfile=str(files.cert),  # so uvicorn knows and says it serves https
            ssl_keyfile=str(files.key),
        )
        config.load()
        config.ssl = https.context  # ours: modern defaults, and the one checked at start
        sock = config.bind_socket()  # a port in use ends the program here, before any poll
        companions.append((HttpsServer(config, limits.head_timeout_s), sock))
    primary = _config(app, settings, settings.server.port, limits=limits, http=http, lifespan="on")
    _Primary(primary, companions).run()
