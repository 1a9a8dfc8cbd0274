"""Real-time WebSocket streams (docs/websocket.md): one broadcaster per stream, fed by the hub."""

from pypowerwall_server.streams.broadcaster import StreamConfig
from pypowerwall_server.streams.messages import FORMAT_VERSION, CloseCode
from pypowerwall_server.streams.service import ReadAuthorizer, Streams, start_streams

__all__ = [
    "FORMAT_VERSION",
    "CloseCode",
    "ReadAuthorizer",
    "StreamConfig",
    "Streams",
    "start_streams",
]
