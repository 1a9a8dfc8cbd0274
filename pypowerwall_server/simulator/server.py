"""The HTTPS listener of one simulated gateway, with its faults and request log.

Every gateway of a process shares one event loop and one SSLContext. TLS is started by hand
on each accepted TCP connection (`start_tls`), so a fault can refuse the handshake; the
port itself can stop listening (connection refused) and listen again.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import os
import ssl
import time
from collections.abc import Coroutine
from dataclasses import replace
from typing import Generic, TypeVar

import orjson

from pypowerwall_server.simulator.app_faults import AppSettings
from pypowerwall_server.simulator.faults import (
    APP_KINDS,
    ActiveFault,
    Fault,
    FaultBook,
    RequestPlan,
)
from pypowerwall_server.simulator.http11 import HttpConnection
from pypowerwall_server.simulator.interface import (
    RequestHandler,
    SimRequest,
    SimResponse,
    SimulatedGatewayApp,
)
from pypowerwall_server.simulator.observe import NO_RESPONSE, RequestLog, RequestRecord

log = logging.getLogger(__name__)

TLS_HANDSHAKE_TIMEOUT_S = 10.0
RELISTEN_ATTEMPTS = 20
RELISTEN_DELAY_S = 0.25
NO_BODY = frozenset({204, 304})  # statuses that cannot carry garbage (h11 refuses a body)
NOT_TLS = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"  # what a TLS client chokes on


AppT = TypeVar("AppT", bound=RequestHandler)


class GatewayServer(Generic[AppT]):
    """One gateway's port (or the simulated Fleet API's): TLS, HTTP/1.1 keep-alive,
    faults, request log."""

    def __init__(
        self,
        gateway_id: str,
        app: AppT,
        ssl_context: ssl.SSLContext,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ring_size: int = 1000,
        site_faults: bool = True,
    ) -> None:
        self.id = gateway_id
        self.app = app
        self.host = host
        self.port = port
        self.log = RequestLog(ring_size)
        self.faults = FaultBook()
        # Site faults change the site itself: only its main listener takes them.
        site = app if site_faults and isinstance(app, SimulatedGatewayApp) else None
        self.settings = AppSettings(site)
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._writers: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._hangs: dict[int, asyncio.Event] = {}
        self._background: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> bool:
        return self._server is not None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Client connections still being served (tests wait for hang-ups to be handled)."""
        return len(self._writers)

    async def start(self) -> None:
        await self._listen()

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._background):
            task.cancel()
        self._stop_listening()
        tasks = list(self._writers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, *self._background, return_exceptions=True)

    # --- faults -------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> ActiveFault:
        """Activate a fault now (call on the event loop)."""
        previous = self.settings.current(fault) if fault.kind in APP_KINDS else None
        active, replaced = self.faults.add(fault, time.monotonic())
        if replaced is not None:
            self._forget(replaced, release_hangs=True)
            previous = replaced.previous  # restore what was there before either
        active.previous = previous
        if fault.kind in APP_KINDS:
            self.settings.apply(fault)
        elif fault.kind == "refused":
            self._stop_listening()
        if fault.duration is not None:
            loop = asyncio.get_running_loop()
            self._timers[active.id] = loop.call_later(fault.duration, self._expire, active.id)
        return active

    def remove_fault(self, fault_id: int) -> bool:
        active = self.faults.remove(fault_id)
        if active is not None:
            self._end(active, release_hangs=True)
        return active is not None

    def clear_faults(self) -> int:
        gone = self.faults.clear()
        for active in gone:
            self._end(active, release_hangs=True)
        for event in self._hangs.values():
            event.set()  # hangs whose count was used up wait for this
        self._hangs.clear()
        return len(gone)

    def _expire(self, fault_id: int) -> None:
        self.remove_fault(fault_id)

    def _end(self, active: ActiveFault, *, release_hangs: bool) -> None:
        """A fault stopped: undo what it changed."""
        self._forget(active, release_hangs=release_hangs)
        if active.fault.kind in APP_KINDS:
            self.settings.restore(active.fault, active.previous)
        elif active.fault.kind == "refused":
            self._spawn(self._relisten())

    def _forget(self, active: ActiveFault, *, release_hangs: bool) -> None:
        timer = self._timers.pop(active.id, None)
        if timer is not None:
            timer.cancel()
        if release_hangs and (event := self._hangs.pop(active.id, None)) is not None:
            event.set()

    # --- listening ----------------------------------------------------------------------

    async def _listen(self) -> None:
        if self._server is not None or self.faults.of_kind("refused") is not None:
            return
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self.port, reuse_address=True, backlog=256
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relisten(self) -> None:
        """Listen again after a refusal; the port may linger briefly, so retry a little."""
        for attempt in range(RELISTEN_ATTEMPTS):
            try:
                await self._listen()
                return
            except OSError as exc:
                if attempt == RELISTEN_ATTEMPTS - 1:
                    log.error("gateway %s: cannot listen on %s again: %s", self.id, self.port, exc)
                    return
                await asyncio.sleep(RELISTEN_DELAY_S)

    def _stop_listening(self) -> None:
        """Close the port and drop every open connection, as a gateway that went away."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._writers.values():
            writer.transport.abort()

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- connections --------------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._writers[task] = writer
        self.log.connection_opened()
        try:
            await self._serve_connection(reader, writer)
        except asyncio.CancelledError:
            writer.transport.abort()
        except (ConnectionError, ssl.SSLError) as exc:  # the client hung up mid-answer: normal
            log.debug("gateway %s: client went away (%s)", self.id, type(exc).__name__)
            writer.transport.abort()
        except Exception:
            log.exception("gateway %s: connection failed", self.id)
            writer.transport.abort()
        finally:
            self._writers.pop(task, None)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self.faults.take_tls_failure():
            self.log.tls_failed()
            writer.write(NOT_TLS)
            await HttpConnection(reader, writer).close()
            return
        try:
            await writer.start_tls(self._ssl, ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT_S)
        except (OSError, ssl.SSLError, TimeoutError):
            writer.transport.abort()
            return
        conn = HttpConnection(reader, writer)
        while await self._serve_one(conn):
            pass
        await conn.close()

    async def _serve_one(self, conn: HttpConnection) -> bool:
        """Answer one request; False when the connection must end."""
        request = await conn.receive()
        if request is None:
            return False
        started, t0 = time.time(), time.monotonic()
        plan = self.faults.plan(request.path)
        action = plan.action
        kind = action.fault.kind if action is not None else ("latency" if plan.latency_s else None)
        try:
            response = await self._answer(conn, request, plan)
        finally:
            for spent in plan.spent:  # restore app faults before the client sees the answer
                self._end(spent, release_hangs=spent.fault.kind != "hang")
        # Log before sending, so a client that got its answer also finds it counted.
        status = NO_RESPONSE if response is None else response.status
        duration_ms = round((time.monotonic() - t0) * 1000.0, 3)
        self.log.record(
            RequestRecord(started, request.method, request.path, status, duration_ms, kind)
        )
        if response is None:
            return False
        if kind == "truncated":
            await conn.send_truncated(response)
            return False
        await conn.send(response)
        return conn.reusable

    async def _answer(
        self, conn: HttpConnection, request: SimRequest, plan: RequestPlan
    ) -> SimResponse | None:
        """The response the faults allow; None when the client left during a hang."""
        if plan.latency_s:
            await asyncio.sleep(plan.latency_s)
        action = plan.action
        if (
            action is not None
            and action.fault.kind == "hang"
            and not await self._hang(conn, action)
        ):
            return None
        return self._respond(request, action)

    async def _hang(self, conn: HttpConnection, active: ActiveFault) -> bool:
        """Hold the request until the fault ends (True: answer it now) or the client goes
        away (False)."""
        event = self._hangs.setdefault(active.id, asyncio.Event())
        released = asyncio.ensure_future(event.wait())
        gone = asyncio.ensure_future(conn.wait_closed_by_client())
        try:
            done, _ = await asyncio.wait({released, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (released, gone):
                task.cancel()
            await asyncio.gather(released, gone, return_exceptions=True)
        return gone not in done

    def _respond(self, request: SimRequest, action: ActiveFault | None) -> SimResponse:
        if action is not None and action.fault.kind == "status":
            return error_response(action.fault.status)
        try:
            response = self.app.handle(request)
        except Exception:
            log.exception("gateway %s: app failed on %s %s", self.id, request.method, request.path)
            return error_response(500)
        if action is not None and action.fault.kind == "garbage" and response.status not in NO_BODY:
            return replace(response, body=garbage(max(len(response.body), 32)))
        return response


def error_response(status: int) -> SimResponse:
    body = orjson.dumps({"code": status, "error": _phrase(status), "message": "simulated fault"})
    return SimResponse(status, body)


def garbage(length: int) -> bytes:
    """Bytes that are neither JSON nor a well-formed protobuf message."""
    prefix = b"\x00\xff\xfeGARBAGE"
    return (prefix + os.urandom(max(0, length - len(prefix))))[:length]


def _phrase(status: int) -> str:
    with contextlib.suppress(ValueError):
        return http.HTTPStatus(status).phrase
    return "Error"


SiteServer = GatewayServer[SimulatedGatewayApp]
