"""uvicorn's httptools protocol with the limits a server on a LAN needs.

Every request, hot (api/hot_protocol.py) or not, passes here before any route sees it:
- a request head larger than ClientLimits.max_head_bytes → 431 (the parser's buffer stays
  bounded: a head still incomplete is counted chunk by chunk, a complete one exactly);
- a head not complete within head_timeout_s of the connection opening (or of the previous
  answer) → 408 and close, so trickling clients cannot hold descriptors;
- more than max_connections open (HTTP and WebSocket) → 503 and close, logged once per episode;
- a head that breaks http/request_rules.py (Host, version, framing) → 400.
Refusals are JSON, close the connection and are logged at most once a minute per kind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.lean_connection import LeanFlowControl, Pipeline
from pypowerwall_server.http.request_rules import HostPolicy, Refusal, head_refusal
from pypowerwall_server.log_limit import RateLimitedLog

log = logging.getLogger(__name__)
SWEEPS_PER_TIMEOUT = 20  # a slow head is closed at most timeout/20 late
LINGER_S = 1.0  # after refusing a client that is still sending: time to read the answer
LINGER_BYTES = 1024 * 1024  # and what is read and dropped meanwhile, at most


class Refused(Exception):
    """Raised inside a parser callback to stop parsing; data_received sends the answer."""


class HeadWatch:
    """Which connections are reading a request head, since when; closes the late ones.

    One timer per server, not one per request, and time counted in its ticks, so a request
    pays two dict operations, not a timer (the hot path must stay cheap). The state lives
    here, not on the connection: uvicorn's protocol already has as many attributes as Python
    keeps in a compact (key-sharing) instance dict; one more costs ~1.3 KB a connection.
    """

    def __init__(self, timeout_s: float) -> None:
        self.period_s = timeout_s / SWEEPS_PER_TIMEOUT
        self.tick = 0  # sweeps so far
        self.started: dict[GuardedHttpProtocol, int] = {}  # connection → tick its head began
        # Bytes of a pending head received after the chunk it began in (that chunk's part
        # is measured exactly once the head is complete).
        self.later_bytes: dict[GuardedHttpProtocol, int] = {}
        self.chunk = 0  # length of the chunk being parsed
        self.timer: asyncio.TimerHandle | None = None

    def begin(self, connection: GuardedHttpProtocol) -> None:
        """A head begins (or a connection opens), unless one is already pending."""
        if connection not in self.started:
            self.started[connection] = self.tick
            if self.timer is None:
                self.schedule(connection.loop)

    def end(self, connection: GuardedHttpProtocol) -> None:
        """The pending head is complete, refused, or its connection gone."""
        self.started.pop(connection, None)
        if self.later_bytes:
            self.later_bytes.pop(connection, None)

    def head_bytes(self, connection: GuardedHttpProtocol, chunk: int) -> int:
        """Count a chunk that left the head incomplete; the bytes counted so far."""
        counted = self.later_bytes.get(connection)
        counted = 0 if counted is None else counted + chunk
        self.later_bytes[connection] = counted
        return counted

    def schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer = loop.call_later(self.period_s, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        # A head that began between sweeps k and k+1 is late at sweep k + SWEEPS + 1: after
        # the timeout, and at most one period more. `started` is in the order heads began
        # (an entry is only ever added at the end, with the current tick), so the late ones
        # come first: a sweep costs the late ones, not every pending head (3,000 trickling
        # clients: 140 us each sweep, on the loop).
        self.timer = None
        self.tick += 1
        late = []
        for connection, began in self.started.items():
            if self.tick - began <= SWEEPS_PER_TIMEOUT:
                break
            late.append(connection)
        for connection in late:
            connection.head_timed_out()
        if self.started:
            self.schedule(loop)


class ConnectionCap:
    """Counts refusals while the server is full; logs the start and the end of each episode."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.refused = 0

    def full(self, open_connections: int) -> bool:
        if open_connections <= self.limit:
            if self.refused and open_connections < self.limit * 0.9:
                log.warning("accepting connections again (%d refused while full)", self.refused)
                self.refused = 0
            return False
        if not self.refused:
            log.warning(
                "%d connections open, the limit (PW_MAX_CONNECTIONS): new ones get 503", self.limit
            )
        self.refused += 1
        return True


class GuardedHttpProtocol(HttpToolsProtocol):
    """Subclassed per server by guarded_protocol() with its limits and allowed hosts."""

    limits: ClassVar[ClientLimits] = ClientLimits()
    hosts: ClassVar[HostPolicy] = HostPolicy(("*",))
    watch: ClassVar[HeadWatch] = HeadWatch(limits.head_timeout_s)
    cap: ClassVar[ConnectionCap] = ConnectionCap(limits.max_connections)
    refusals: ClassVar[RateLimitedLog] = RateLimitedLog(log)

    _refusal: Refusal | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every attribute set here, not later: Python keeps an instance's attributes compact
        # only if they come in the same order from __init__; one set later costs ~1.5 KB a
        # connection (3,000 trickling clients: 4.5 MB).
        self.url = b""
        self.pipeline = Pipeline()  # type: ignore[assignment]  # uvicorn's deque, lean
        self.init_extra()

    def init_extra(self) -> None:
        """Subclasses set their per-connection attributes here."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = LeanFlowControl(transport)  # uvicorn's, without an Event per connection
        if self.cap.full(len(self.connections)):
            self._refuse_now(503, "too many connections; try again later")
            return
        self.watch.begin(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.watch.end(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self.watch.chunk = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            refusal = self._refusal or (400, "invalid HTTP request")
            self._refuse_now(*refusal)
            return
        watch = self.watch
        incomplete = self in watch.started  # the head is still incomplete after this chunk
        if incomplete and watch.head_bytes(self, len(data)) > self.limits.max_head_bytes:
            self._refuse_now(431, "request header fields too large", still_sending=True)

    def handle_websocket_upgrade(self) -> None:
        self.watch.end(self)  # the WebSocket protocol owns the connection from here
        super().handle_websocket_upgrade()

    def on_message_begin(self) -> None:
        # uvicorn's per-request state without its ASGI scope, which is built only for requests
        # that reach the app (_build_scope): hot answers and refusals never need one, and a
        # connection trickling its head holds ~1.7 KB less.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        watch = self.watch  # watch.begin(self), inline: this runs for every request
        if self not in watch.started:
            watch.started[self] = watch.tick
            if watch.timer is None:
                watch.schedule(self.loop)

    def on_headers_complete(self) -> None:
        self.admit_head()
        self._build_scope()
        super().on_headers_complete()

    def _build_scope(self) -> None:
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()  # uvicorn's: the scope, and fresh url/headers we put back
        self.url, self.headers, self.expect_100_continue = url, headers, expect
        self.scope["headers"] = headers

    def admit_head(self) -> None:
        """Check the complete head; raises Refused (parsing stops) if it must be refused."""
        watch, limit = self.watch, self.limits.max_head_bytes
        watch.started.pop(self, None)  # watch.end(self), inline: this runs for every request
        # A head that arrived within one chunk no larger than the limit needs no measuring.
        spanned = watch.chunk > limit
        if watch.later_bytes and watch.later_bytes.pop(self, None) is not None:
            spanned = True
        parser: Any = self.parser
        refusal = head_refusal(
            parser.get_http_version(),
            self.headers,
            self.hosts,
            len(self.url),
            limit if spanned else None,
        )
        if refusal is not None:
            self._refusal = refusal
            raise Refused(refusal[1])

    def head_timed_out(self) -> None:
        self._refuse_now(408, "request head not received in time")

    def _refuse_now(self, status: int, message: str, still_sending: bool = False) -> None:
        """Answer `status` and close. A client `still_sending` its head would get a reset
        (closing with unread data), which loses the answer: half-close, then discard what it
        sends for a moment before closing (a "lingering close")."""
        self.watch.end(self)
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        self.refusals.log(
            logging.WARNING, f"{status} {message}", "refused %s: %d %s", peer, status, message
        )
        transport = self.transport
        if transport.is_closing():
            return
        body = orjson.dumps({"error": message})
        head = [STATUS_LINE[status]]
        head += [b"%s: %s\r\n" % pair for pair in self.server_state.default_headers]
        head.append(
            b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(body)
        )
        transport.write(b"".join(head) + body)
        if still_sending and transport.can_write_eof():
            transport.write_eof()
            transport.set_protocol(Discard(transport, self.loop, self.connection_lost))
        else:
            transport.close()


class Discard(asyncio.Protocol):
    """Reads and drops what a refused client still sends, for at most LINGER_S or
    LINGER_BYTES, then closes; the refused protocol's connection_lost runs at the end."""

    def __init__(
        self,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        on_lost: Callable[[Exception | None], None],
    ) -> None:
        self.transport = transport
        self.left = LINGER_BYTES
        self.on_lost = on_lost
        self.timer = loop.call_later(LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        self.left -= len(data)
        if self.left < 0:
            self.transport.close()

    def eof_received(self) -> bool:
        return False  # close

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()
        self.on_lost(exc)


def guarded_protocol(limits: ClientLimits, hosts: HostPolicy) -> type[GuardedHttpProtocol]:
    """A protocol class with its own limits, allowed hosts, head watch and connection count."""

    class ServerGuardedProtocol(GuardedHttpProtocol):
        pass

    ServerGuardedProtocol.limits = limits
    ServerGuardedProtocol.hosts = hosts
    ServerGuardedProtocol.watch = HeadWatch(limits.head_timeout_s)
    ServerGuardedProtocol.cap = ConnectionCap(limits.max_connections)
    ServerGuardedProtocol.refusals = RateLimitedLog(log)
    return ServerGuardedProtocol
