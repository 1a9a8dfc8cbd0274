"""The WebSocket message format, version 1 (documented in docs/websocket.md).

Every message is one JSON text frame, encoded once per stream update and sent as the same
frame to every client of that stream.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from enum import IntEnum
from typing import Any, Literal

import orjson

FORMAT_VERSION = 1

MessageType = Literal["snapshot", "update", "heartbeat"]
StreamName = Literal["aggregate", "gateway"]

# An ASGI "websocket.send" message, shared read-only by every client of a stream.
Frame = MutableMapping[str, Any]


class CloseCode(IntEnum):
    """Close codes the server uses (4xxx mirror HTTP statuses)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect later
    UNAUTHORIZED = 4401  # the read-authentication hook refused the client
    FORBIDDEN_ORIGIN = 4403  # the Origin header is not allowed (before accept: HTTP 403)
    UNKNOWN_GATEWAY = 4404
    TOO_SLOW = 4408  # the client fell behind (did not read); reconnect to resync


def encode(
    kind: MessageType,
    stream: StreamName,
    gateway: str | None,
    seq: int,
    ts: float,
    snapshot_ts: float | None,
    data: Any = None,
) -> Frame:
    """One message as a ready ASGI frame. `data` may hold orjson.Fragment values
    (response bodies already encoded once per Snapshot)."""
    message: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "type": kind,
        "stream": stream,
        "gateway": gateway,
        "seq": seq,
        "ts": ts,
        "snapshot_ts": snapshot_ts,
    }
    if kind != "heartbeat":
        message["data"] = data
    return {"type": "websocket.send", "text": orjson.dumps(message).decode()}
