"""A WebSocket client that stops reading (and so never answers pings) is closed with the
documented 4408, on a real uvicorn with the options run_server gives it."""

from __future__ import annotations

import socket
import struct

import pytest

from pypowerwall_server.streams.keepalive import NO_PONG
from pypowerwall_server.streams.messages import CloseCode

from .served import serving

pytestmark = pytest.mark.integration  # starts a server

FAST_PINGS = {"ws_ping_interval": 0.2, "ws_ping_timeout": 0.3}


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each unmasked frame a server sent."""
    frames, at = [], 0
    while at + 2 <= len(data):
        opcode, size = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if size == 126:
            (size,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif size == 127:
            (size,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        frames.append((opcode, data[at : at + size]))
        at += size
    return frames


def test_ws_client_that_stops_reading_closed_with_1011_not_4408() -> None:
    with serving(uvicorn_extra=FAST_PINGS) as client:
        sock = socket.create_connection(("127.0.0.1", client.base_url.port), timeout=10)
        with sock:
            sock.sendall(
                b"GET /ws/aggregate HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            received = b""
            while chunk := sock.recv(65536):  # the server closes the socket: EOF
                received += chunk
        head, _, frames = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        opcodes = [opcode for opcode, _ in _frames(frames)]
        assert 0x9 in opcodes  # pinged, never answered
        opcode, payload = _frames(frames)[-1]
        assert opcode == 0x8
        (code,) = struct.unpack("!H", payload[:2])
        assert code == CloseCode.TOO_SLOW == 4408
        assert payload[2:].decode() == NO_PONG
