"""WebSocket streams by path: /ws/aggregate and /ws/gateway/{id} (format: docs/websocket.md),
and /ws/events (docs/notifications.md).

Dispatched by the hot ASGI app (http/hot_asgi.py), not FastAPI: a stream client never waits
for the full API to be built, and 5,000 handshakes skip FastAPI's route matching.
"""

from __future__ import annotations

from collections.abc import Callable

from pypowerwall_server.http.asgi import ASGIApp, Receive, Scope, Send
from pypowerwall_server.services import AppServices
from pypowerwall_server.streams.broadcaster import Stream
from pypowerwall_server.streams.messages import CloseCode
from pypowerwall_server.streams.service import Streams

AGGREGATE_PATH = "/ws/aggregate"
EVENTS_PATH = "/ws/events"
GATEWAY_PREFIX = "/ws/gateway/"
Pick = Callable[[Streams], Stream]


def stream_endpoints(services: AppServices) -> Callable[[str], ASGIApp | None]:
    """path → the endpoint serving it, or None (FastAPI then refuses the handshake)."""

    def endpoint_for(path: str) -> ASGIApp | None:
        if path == AGGREGATE_PATH:
            return _endpoint(services, lambda streams: streams.aggregate)
        if path == EVENTS_PATH:
            return _events_endpoint(services)
        gateway_id = path.removeprefix(GATEWAY_PREFIX)
        if gateway_id != path and gateway_id and "/" not in gateway_id:
            # An unknown id is accepted, then closed with 4404 and a reason (streams.gateway).
            return _endpoint(services, lambda streams: streams.gateway(gateway_id))
        return None

    return endpoint_for


def _endpoint(services: AppServices, pick: Pick) -> ASGIApp:
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.websockets import WebSocket

        from pypowerwall_server.streams.connection import serve

        streams = services.live.streams
        websocket = WebSocket(scope, receive, send)
        if streams is None:  # only after the lifespan has ended
            await websocket.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        await serve(websocket, streams, lambda: pick(streams))

    return endpoint


def _events_endpoint(services: AppServices) -> ASGIApp:
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.websockets import WebSocket

        from pypowerwall_server.events.websocket import serve_events

        streams, events = services.live.streams, services.events
        websocket = WebSocket(scope, receive, send)
        if streams is None or events is None:  # only after the lifespan has ended
            await websocket.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        await serve_events(websocket, streams, events)

    return endpoint
