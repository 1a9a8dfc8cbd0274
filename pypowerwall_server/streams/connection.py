"""One WebSocket connection, from handshake to close: checks, welcome, writer, reader.

The stream sends frames (encoded once) to the client eagerly from its broadcast loop; the
connection's task only waits until the client is finished, while a small reader task
notices the client leaving at once, not at the next message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket

from pypowerwall_server.errors import UnknownGateway
from pypowerwall_server.log_limit import RateLimitedLog
from pypowerwall_server.streams.broadcaster import Stream
from pypowerwall_server.streams.client import Client
from pypowerwall_server.streams.direct import transport_of
from pypowerwall_server.streams.messages import CloseCode
from pypowerwall_server.streams.service import Streams

log = logging.getLogger(__name__)
_refusals = RateLimitedLog(log)  # a page can retry at will: one line a minute, with a count


async def admitted(websocket: WebSocket, streams: Streams) -> bool:
    """The handshake's checks (origin, then the read hook): accepted, or closed and False."""
    if not streams.origin_ok(websocket):
        label, origin = _label(websocket), websocket.headers.get("origin")
        _refusals.log(logging.INFO, "origin", "WebSocket %s refused: origin %r", label, origin)
        # Before accept this becomes an HTTP 403 on the handshake.
        await websocket.close(CloseCode.FORBIDDEN_ORIGIN, "origin not allowed")
        return False
    await websocket.accept()
    if not await streams.allowed(websocket):
        await websocket.close(CloseCode.UNAUTHORIZED, "not authorized")
        return False
    return True


async def serve(websocket: WebSocket, streams: Streams, pick: Callable[[], Stream]) -> None:
    label = _label(websocket)
    if not await admitted(websocket, streams):
        return
    try:
        stream = pick()
    except UnknownGateway as exc:
        await websocket.close(CloseCode.UNKNOWN_GATEWAY, exc.message)
        return
    config = streams.config
    client = Client(
        websocket.send, label, config.max_pending, config.send_timeout, transport_of(websocket)
    )
    await _run(websocket, streams, stream, client)


async def _run(websocket: WebSocket, streams: Streams, stream: Stream, client: Client) -> None:
    reader = asyncio.create_task(_read_until_gone(websocket, client), name="streams:reader")
    streams.active.add(client.finished)
    stream.join(client)
    try:
        await client.finished
    finally:
        stream.leave(client)
        streams.active.discard(client.finished)
        reader.cancel()
        client.close(CloseCode.GOING_AWAY, "server shutting down")  # if cancelled meanwhile
    log.debug(
        "WebSocket %s left %s (code %s%s)",
        client.label,
        stream.source.gateway or stream.source.name,
        client.close_code,
        ", by the client" if client.peer_closed else "",
    )


async def _read_until_gone(websocket: WebSocket, client: Client) -> None:
    """Discard what the client sends; tell the writer when the client disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            client.peer_gone(int(message.get("code") or 1005))
            return


def _label(websocket: WebSocket) -> str:
    peer = websocket.client
    return f"{peer.host}:{peer.port}" if peer else "?"
