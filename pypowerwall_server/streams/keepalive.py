"""The WebSocket protocol the server runs: uvicorn's (websockets' sans-I/O), except that a
client that stops answering pings is closed with 4408, the code docs/websocket.md gives a
client that stopped reading, instead of 1011 ("internal error"), which told such clients
the server had failed."""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from pypowerwall_server.streams.messages import CloseCode

NO_PONG = "client too slow: did not answer pings"


class StreamsWebSocketProtocol(WebSocketsSansIOProtocol):
    def keepalive_timeout(self) -> None:
        # As uvicorn's own, with our close code (the frame is written, then the socket closed).
        self.pong_timer = None
        self.pending_ping_payload = None
        if self.close_sent or self.transport.is_closing():
            return
        self.conn.fail(CloseCode.TOO_SLOW, NO_PONG)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()
