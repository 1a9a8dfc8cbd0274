"""WebSocket streams: /ws/aggregate and /ws/gateway/{id} (format: docs/websocket.md)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from pypowerwall_server.streams.connection import serve
from pypowerwall_server.streams.service import Streams

router = APIRouter()


def _streams(websocket: WebSocket) -> Streams:
    streams: Streams = websocket.app.state.streams  # set in the lifespan by start_streams
    return streams


@router.websocket("/ws/aggregate")
async def aggregate_stream(websocket: WebSocket) -> None:
    """Site totals and a compact line per gateway: on connect, then on change (<= 1/s)."""
    streams = _streams(websocket)
    await serve(websocket, streams, lambda: streams.aggregate)


@router.websocket("/ws/gateway/{gateway_id}")
async def gateway_stream(websocket: WebSocket, gateway_id: str) -> None:
    """One gateway's full detail (summary, power, vitals, strings, alerts) on change."""
    streams = _streams(websocket)
    await serve(websocket, streams, lambda: streams.gateway(gateway_id))
