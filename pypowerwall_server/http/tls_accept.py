"""TLS accepted by hand on the HTTPS listener, so that handshakes in progress count against
PW_MAX_CONNECTIONS: with `create_server(ssl=...)` the HTTP protocol sees a connection only
once its handshake is done, so 1,000 clients that send one byte each held 1,000 sockets and
1,000 TLS objects (+55 MiB) beyond the cap.

Each TCP connection is first a `_Handshake`: refused at once (closed, nothing allocated)
when open connections plus handshakes in progress reach the cap, else upgraded with
`loop.start_tls` within the handshake timeout, then handed to a new HTTP protocol. Bytes
that arrive between the end of the handshake and that hand-over are kept and replayed.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import cast

from pypowerwall_server.streams.eager import run_eagerly

log = logging.getLogger(__name__)


class TlsAccept:
    def __init__(
        self,
        make_protocol: Callable[[], asyncio.Protocol],
        context: ssl.SSLContext,
        timeout_s: float,
        full: Callable[[int], bool],
        open_connections: Callable[[], int],
    ) -> None:
        self._make_protocol = make_protocol
        self._context = context
        self._timeout_s = timeout_s
        self._full = full  # the HTTP protocol's cap: True (and logged) beyond the limit
        self._open_connections = open_connections
        self.handshakes: set[asyncio.Task[None]] = set()

    def protocol(self) -> asyncio.Protocol:
        """The protocol factory for `create_server` (no `ssl=`)."""
        return _Handshake(self)

    def admit(self, transport: asyncio.Transport) -> None:
        if self._full(self._open_connections() + len(self.handshakes) + 1):
            transport.abort()  # no TLS yet, so no 503: the client sees a closed connection
            return
        # start_tls must take the transport over inside this callback: uvloop starts
        # reading when connection_made returns, and a ClientHello read here would be lost.
        try:
            task = run_eagerly(self._upgrade(transport), "tls-handshake")
        except Exception as exc:  # start_tls refused the transport (closing already)
            log.debug("TLS start failed: %s", type(exc).__name__)
            transport.abort()
            return
        if task is not None:
            self.handshakes.add(task)
            task.add_done_callback(self.handshakes.discard)

    async def _upgrade(self, transport: asyncio.Transport) -> None:
        early = _Early()
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(
                transport,
                early,
                self._context,
                server_side=True,
                ssl_handshake_timeout=self._timeout_s,
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            log.debug("TLS handshake failed: %s", type(exc).__name__)
            transport.abort()
            return
        except asyncio.CancelledError:
            transport.abort()
            raise
        if tls is None:  # the peer left during the handshake
            transport.abort()
            return
        protocol = self._make_protocol()
        tls.set_protocol(protocol)
        protocol.connection_made(tls)
        early.replay(protocol)

    def close_all(self) -> None:
        """Shutdown: handshakes still in progress are abandoned."""
        for task in list(self.handshakes):
            task.cancel()


class _Handshake(asyncio.Protocol):
    """A TCP connection before its TLS handshake (handed to start_tls at once)."""

    def __init__(self, accept: TlsAccept) -> None:
        self._accept = accept

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._accept.admit(cast(asyncio.Transport, transport))  # a TCP transport


class _Early(asyncio.Protocol):
    """What the TLS transport delivers before the HTTP protocol is attached."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.eof = False
        self.lost: tuple[Exception | None] | None = None

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = (exc,)

    def replay(self, protocol: asyncio.Protocol) -> None:
        for chunk in self.chunks:
            protocol.data_received(chunk)
        if self.eof:
            protocol.eof_received()
        if self.lost is not None:
            protocol.connection_lost(self.lost[0])
