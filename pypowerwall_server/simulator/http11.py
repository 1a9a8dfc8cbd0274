"""One server-side HTTP/1.1 connection on asyncio streams, parsed by h11.

Deliberately low level: the fault layer needs to answer normally, answer with a body shorter
than its Content-Length, or never answer at all, on a keep-alive connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
from collections.abc import Iterable

import h11

from pypowerwall_server.simulator.interface import SimRequest, SimResponse

MAX_BODY_BYTES = 4 * 1024 * 1024
READ_SIZE = 65536
CLOSE_TIMEOUT_S = 1.0


class HttpConnection:
    """Reads requests from and writes responses to one client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        self._closed = False

    @property
    def reusable(self) -> bool:
        """True when the connection may carry another request (keep-alive)."""
        return not self._closed and self._h11.our_state is h11.DONE

    async def receive(self) -> SimRequest | None:
        """The next complete request, or None when the client closed the connection or sent
        something that is not HTTP/1.1 (then it was answered 400 and should be closed)."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        try:
            return await self._receive()
        except h11.RemoteProtocolError as exc:
            await self._answer_bad_request(str(exc))
            return None
        except (OSError, asyncio.IncompleteReadError):
            return None

    async def _receive(self) -> SimRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA:
                self._h11.receive_data(await self._reader.read(READ_SIZE))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY_BYTES:
                    raise h11.RemoteProtocolError("request body too large", 413)
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                return _to_request(head, bytes(body))
            else:  # ConnectionClosed, PAUSED
                return None

    async def _answer_bad_request(self, reason: str) -> None:
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            body = b'{"error": "bad request"}'
            with contextlib.suppress(h11.LocalProtocolError, OSError):
                await self.send(SimResponse(400, body, headers=(("connection", "close"),)))
        await self.close()

    async def send(self, response: SimResponse) -> None:
        """Send a complete response with a Content-Length body."""
        head = self._response_head(response, len(response.body))
        data = self._h11.send(head) or b""
        data += self._h11.send(h11.Data(data=response.body)) or b""
        data += self._h11.send(h11.EndOfMessage()) or b""
        await self._write(data)

    async def send_truncated(self, response: SimResponse) -> None:
        """Announce the full body length, send only part of it, then close."""
        declared = max(len(response.body), 64)
        data = self._h11.send(self._response_head(response, declared)) or b""
        await self._write(data + response.body[: len(response.body) // 2])
        await self.close()

    async def wait_closed_by_client(self) -> None:
        """Return once the client closes (EOF or error). Bytes that arrive meanwhile are kept
        for the next request."""
        while True:
            try:
                data = await self._reader.read(READ_SIZE)
            except (OSError, asyncio.IncompleteReadError):
                return
            if not data:
                return
            self._h11.receive_data(data)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), CLOSE_TIMEOUT_S)

    def abort(self) -> None:
        """Drop the connection at once, without flushing (used when a port goes down)."""
        self._closed = True
        self._writer.transport.abort()

    async def _write(self, data: bytes) -> None:
        # Pipelined requests are answered without any other pause, so yield once: a client's
        # hang-up (connection_lost) is then seen by drain() below instead of every further
        # answer going to a dead socket with an asyncio warning each.
        await asyncio.sleep(0)
        if self._writer.transport.is_closing():
            raise ConnectionResetError("the client closed the connection")
        self._writer.write(data)
        await self._writer.drain()

    def _response_head(self, response: SimResponse, length: int) -> h11.Response:
        headers: list[tuple[str, str]] = [
            ("content-type", response.content_type),
            ("content-length", str(length)),
        ]
        headers += [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        return h11.Response(
            status_code=response.status, headers=headers, reason=_reason(response.status)
        )


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _to_request(head: h11.Request, body: bytes) -> SimRequest:
    target = head.target.decode("latin-1")
    path, _, query = target.partition("?")
    return SimRequest(
        method=head.method.decode("ascii").upper(),
        path=path,
        query=query,
        headers=_headers(head.headers),
        body=body,
    )


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        separator = "; " if key == "cookie" else ", "
        headers[key] = f"{headers[key]}{separator}{text}" if key in headers else text
    return headers
