"""uvicorn's httptools protocol with the limits a server on a LAN needs (issue 15, items 1-4).

Every request, hot (api/hot_protocol.py) or not, passes here before any route sees it:
- a request head larger than ClientLimits.max_head_bytes → 431 (the parser's buffer stays
  bounded: a head still incomplete is counted chunk by chunk, a complete one exactly);
- a head not complete within head_timeout_s of the connection opening (or of the previous
  answer) → 408 and close, so trickling clients cannot hold descriptors;
- more than max_connections open (HTTP and WebSocket) → 503 and close, logged once per episode;
- a head that breaks api/request_rules.py (Host, version, framing) → 400.
Refusals are JSON, close the connection and are logged at most once a minute per kind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from pypowerwall_server.api.client_limits import ClientLimits
from pypowerwall_server.api.request_rules import HostPolicy, Refusal, head_refusal
from pypowerwall_server.log_limit import RateLimitedLog

log = logging.getLogger(__name__)
SWEEPS_PER_TIMEOUT = 20  # a slow head is closed at most timeout/20 late


class Refused(Exception):
    """Raised inside a parser callback to stop parsing; data_received sends the answer."""


class HeadWatch:
    """Closes connections whose request head is not complete in time, with one timer per
    server (not one per request: the hot path must stay cheap)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.connections: set[GuardedHttpProtocol] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, connection: GuardedHttpProtocol) -> None:
        self.connections.add(connection)
        if self._timer is None:
            self._schedule(connection.loop)

    def discard(self, connection: GuardedHttpProtocol) -> None:
        self.connections.discard(connection)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = loop.call_later(self.timeout_s / SWEEPS_PER_TIMEOUT, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        deadline = loop.time() - self.timeout_s
        late = [
            c for c in self.connections if c.head_since is not None and c.head_since <= deadline
        ]
        for connection in late:
            connection.head_timed_out()
        if self.connections:
            self._schedule(loop)


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

    head_since: float | None = None  # loop time the current head started; None: not reading one
    _head_bytes = 0
    _fresh_head = False
    _refusal: Refusal | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.cap.full(len(self.connections)):
            self._refuse_now(503, "too many connections; try again later")
            return
        self.head_since = self.loop.time()
        self.watch.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.watch.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
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
        if self.head_since is not None:  # the head is still incomplete after this chunk
            if self._fresh_head:  # it began in this chunk: on_headers_complete measures it
                self._fresh_head = False
            else:
                self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse_now(431, "request header fields too large")

    def handle_websocket_upgrade(self) -> None:
        self.watch.discard(self)  # the WebSocket protocol owns the connection from here
        self.head_since = None
        super().handle_websocket_upgrade()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._fresh_head = True
        self._head_bytes = 0
        if self.head_since is None:
            self.head_since = self.loop.time()

    def on_headers_complete(self) -> None:
        self.admit_head()
        super().on_headers_complete()

    def admit_head(self) -> None:
        """Check the complete head; raises Refused (parsing stops) if it must be refused."""
        self.head_since = None
        parser: Any = self.parser
        refusal = head_refusal(
            parser.get_http_version(),
            self.headers,
            self.hosts,
            len(self.url),
            self.limits.max_head_bytes,
        )
        if refusal is not None:
            self._refusal = refusal
            raise Refused(refusal[1])

    def head_timed_out(self) -> None:
        self._refuse_now(408, "request head not received in time")

    def _refuse_now(self, status: int, message: str) -> None:
        self.head_since = None
        self.watch.discard(self)
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        self.refusals.log(
            logging.WARNING, f"{status} {message}", "refused %s: %d %s", peer, status, message
        )
        if self.transport.is_closing():
            return
        body = orjson.dumps({"error": message})
        head = [STATUS_LINE[status]]
        head += [b"%s: %s\r\n" % pair for pair in self.server_state.default_headers]
        head.append(
            b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(body)
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()


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
