"""/ws/events: each event as one JSON text frame, live; with `?since=ID|ISO` the missed
ones first (the same query as GET /api/events: gateway, kind). The streams' checks apply
(streams/origin.py, the read hook); a client that does not keep up is closed with 4408."""

from __future__ import annotations

import asyncio
import contextlib
import time

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from pypowerwall_server.events.model import Event
from pypowerwall_server.events.query import BadEventQuery, EventQuery, parse_query
from pypowerwall_server.events.service import EventService
from pypowerwall_server.streams import CloseCode, Streams
from pypowerwall_server.streams.connection import admitted
from pypowerwall_server.streams.messages import FORMAT_VERSION

POLICY_VIOLATION = 1008  # a bad query: the reason says what
SEND_TIMEOUT_S = 10.0


async def serve_events(websocket: WebSocket, streams: Streams, events: EventService) -> None:
    if not await admitted(websocket, streams):
        return
    params = websocket.query_params
    try:
        since, gateway, kinds = params.get("since"), params.get("gateway"), params.getlist("kind")
        query = parse_query(since, gateway, kinds, streams.hub.gateway_ids)
    except BadEventQuery as exc:
        await websocket.close(POLICY_VIOLATION, exc.message[:120])
        return
    await _stream(websocket, events, query, since_given=params.get("since") is not None)


async def _stream(
    websocket: WebSocket, events: EventService, query: EventQuery, since_given: bool
) -> None:
    await events.ready.wait()
    reader = asyncio.create_task(_until_gone(websocket), name="events-ws-reader")
    seq = 0
    try:
        with events.listen() as listener:
            backlog = query.select(events.ring) if since_given else []
            last_sent = backlog[-1].id if backlog else events.ring.next_id - 1
            for missed in backlog:
                seq += 1
                await _send(websocket, missed, seq)
            while True:
                event = await _next(listener.queue, (listener.overflowed, events.stopping), reader)
                if event is None:
                    if listener.overflowed.is_set():
                        await websocket.close(CloseCode.TOO_SLOW, "client too slow: fell behind")
                    elif events.stopping.is_set():
                        await websocket.close(CloseCode.GOING_AWAY, "server shutting down")
                    return
                if event.id > last_sent and query.matches(event):
                    seq += 1
                    await _send(websocket, event, seq)
                    last_sent = event.id
    except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
        return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _next(
    queue: asyncio.Queue[Event], ends: tuple[asyncio.Event, ...], reader: asyncio.Task[None]
) -> Event | None:
    """The next event; None once the client left, fell behind or the server stops."""
    getter = asyncio.ensure_future(queue.get())
    enders = [asyncio.ensure_future(end.wait()) for end in ends]
    try:
        await asyncio.wait({getter, reader, *enders}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getter, *enders):
            if not task.done():
                task.cancel()
    if getter.done() and not getter.cancelled():
        return getter.result()
    return None


async def _send(websocket: WebSocket, event: Event, seq: int) -> None:
    message = {
        "v": FORMAT_VERSION,
        "type": "event",
        "stream": "events",
        "gateway": event.gateway,
        "seq": seq,
        "ts": time.time(),
        "data": event.as_dict(),
    }
    async with asyncio.timeout(SEND_TIMEOUT_S):
        await websocket.send_text(orjson.dumps(message).decode())


async def _until_gone(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
