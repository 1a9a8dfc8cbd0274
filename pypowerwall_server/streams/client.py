"""One WebSocket client as its stream sees it: frames are sent eagerly from the stream's
broadcast loop; a send that cannot complete at once (the client is not reading) continues
in a task while later frames wait in a bounded outbox. A client whose outbox overflows, or
whose send stays blocked longer than `send_timeout`, is closed as too slow. Nothing here
ever makes the broadcaster wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.websockets import WebSocketDisconnect

from pypowerwall_server.streams.eager import run_eagerly
from pypowerwall_server.streams.messages import CloseCode, Frame

log = logging.getLogger(__name__)

Send = Callable[[Frame], Coroutine[Any, Any, None]]  # an ASGI send (a coroutine function)
CLOSE_TIMEOUT_S = 1.0  # a close frame to a client that does not read is not waited for
GONE = (OSError, WebSocketDisconnect, RuntimeError)  # the peer left (RuntimeError: closed)


class Client:
    def __init__(
        self,
        send: Send,
        label: str,
        max_pending: int,
        send_timeout: float,
        transport: asyncio.WriteTransport | None = None,
    ) -> None:
        self._send = send
        self._transport = transport  # direct frame writes (streams/direct.py), when known
        self.label = label
        self._max_pending = max_pending
        self._send_timeout = send_timeout
        self._outbox: deque[Frame] = deque()
        self._blocked: asyncio.Task[None] | None = None  # the send still in progress
        self._blocked_since = 0.0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None  # set once: why the client ends
        self.close_reason = ""
        self.peer_closed = False
        self.sent = 0

    def offer(self, frame: Frame, wire: bytes | None = None) -> bool:
        """Send now, or queue behind a blocked send; False once the client is closed.
        `wire` is the frame already framed for the socket, written directly when possible."""
        if self.close_code is not None:
            return False
        if self._blocked is None and wire is not None and self._transport is not None:
            self._write(self._transport, wire)
        elif self._blocked is None:
            self._start(frame)
        elif len(self._outbox) < self._max_pending:
            self._outbox.append(frame)
        else:
            self.close(CloseCode.TOO_SLOW, "client too slow: fell behind")
        return self.close_code is None

    def stuck(self, now: float) -> bool:
        """A send has been blocked for longer than send_timeout (now: time.monotonic())."""
        return self._blocked is not None and now - self._blocked_since > self._send_timeout

    def close(self, code: int, reason: str) -> None:
        """Send a close frame (unless the peer already left) and finish."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        self._outbox.clear()
        if self._blocked is not None:
            self._blocked.cancel()
        if self.peer_closed:
            self._finish()
        else:
            self._send_close()

    def peer_gone(self, code: int) -> None:
        """The client disconnected: finish without sending anything."""
        self.peer_closed = True
        self.close(code, "")

    def _write(self, transport: asyncio.WriteTransport, wire: bytes) -> None:
        if transport.is_closing():
            self.peer_gone(1006)
        elif transport.get_write_buffer_size() > self._max_pending * len(wire):
            self.close(CloseCode.TOO_SLOW, "client too slow: fell behind")
        else:
            transport.write(wire)
            self.sent += 1

    def _start(self, frame: Frame) -> None:
        try:
            task = run_eagerly(self._send(frame), "streams:send")
        except GONE:
            self.peer_gone(1006)
            return
        if task is None:
            self.sent += 1
            return
        self._blocked, self._blocked_since = task, time.monotonic()
        task.add_done_callback(self._unblocked)

    def _unblocked(self, task: asyncio.Task[None]) -> None:
        self._blocked = None
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            if not isinstance(error, GONE):
                log.error("send to %s failed", self.label, exc_info=error)
            self.peer_gone(1006)
            return
        self.sent += 1
        while self._outbox and self._blocked is None and self.close_code is None:
            self._start(self._outbox.popleft())

    def _send_close(self) -> None:
        message: Frame = {"type": "websocket.close", "code": self.close_code, "reason": ""}
        message["reason"] = self.close_reason
        try:
            task = run_eagerly(self._send(message), "streams:close")
        except GONE:
            task = None
        if task is None:
            self._finish()
            return
        timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, task.cancel)

        def closed(done: asyncio.Task[None]) -> None:
            timer.cancel()
            _quiet(done)
            self._finish()

        task.add_done_callback(closed)

    def _finish(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


def _quiet(task: asyncio.Task[None]) -> None:
    """Retrieve a close task's outcome: a peer gone meanwhile is not an error."""
    if not task.cancelled():
        task.exception()
