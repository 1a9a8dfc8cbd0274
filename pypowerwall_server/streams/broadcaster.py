"""One Stream per topic (the aggregate, each gateway): one task that coalesces changes to
at most one message per `min_interval` slot, encodes it once and offers the same frame to
every client. A quiet stream sends a heartbeat every `heartbeat_interval`.

Slots are fixed on the clock (multiples of `min_interval`), like the pollers' ticks: a
"one message per min_interval since the last one" rule locked every later message to the
phase of whatever was sent first (a startup poll, a heartbeat), up to a whole interval
after the data it carries; measured at ~420 ms Snapshot-to-client with 1 s polls."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pypowerwall_server.streams.client import Client
from pypowerwall_server.streams.direct import text_frame
from pypowerwall_server.streams.messages import CloseCode, Frame, MessageType, StreamName, encode

log = logging.getLogger(__name__)
SLOT_SETTLE_S = 0.01  # after a slot boundary, for pollers due at it to start their polls


@dataclass(frozen=True, slots=True)
class StreamConfig:
    min_interval: float = 1.0  # s: at most one message per clock slot of this length
    # s at most to wait after a first change for polls still under way, so one message
    # carries every gateway of a clock tick; a gateway slower than this waits a slot.
    gather: float = 0.1
    heartbeat_interval: float = 10.0  # s of silence before a heartbeat (the issue asks <= 15)
    stale_check_interval: float = 1.0  # s between checks for gateways turning stale
    max_pending: int = 8  # frames a client may lag before it is closed as too slow
    send_timeout: float = 5.0  # s one send may stay blocked before the client is too slow


class Source(Protocol):
    """What a stream shows: a cheap change fingerprint and the full payload."""

    @property
    def name(self) -> StreamName: ...

    @property
    def gateway(self) -> str | None: ...

    def fingerprint(self, now: float) -> object: ...

    def awaiting(self) -> bool:
        """More data this stream shows is due any moment (a poll is under way)."""
        ...

    def payload(self, now: float) -> tuple[Any, float | None]:
        """(data, snapshot_ts: the newest data time in it)."""
        ...


class Stream:
    def __init__(
        self, source: Source, config: StreamConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.source = source
        self.config = config
        self.clock = clock
        self.clients: set[Client] = set()
        self.seq = 0
        self.dropped_slow = 0
        self._changed = asyncio.Event()
        self._sent_fingerprint: object = None
        self._snapshot: tuple[object, Frame] | None = None  # newest "snapshot" frame, by key
        self._last_sent = 0.0  # monotonic
        self._last_slot = -1  # clock slot (clock // min_interval) of the newest update

    def poke(self) -> None:
        """A poller published: wake the stream (cheap; coalescing happens in run())."""
        self._changed.set()

    def join(self, client: Client) -> None:
        """Welcome the client with the current full state, then add it to the broadcast."""
        client.offer(self.snapshot_frame())
        self.clients.add(client)

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        if client.close_code == CloseCode.TOO_SLOW:
            self.dropped_slow += 1
            log.info("stream %s: closed slow client %s", self._label(), client.label)

    def snapshot_frame(self) -> Frame:
        now = self.clock()
        key = self.source.fingerprint(now)
        if self._snapshot is None or self._snapshot[0] != key:
            self._snapshot = (key, self._compose("snapshot", now))
        return self._snapshot[1]

    async def run(self) -> None:
        cfg = self.config
        while True:
            if await self._wait_for_change(cfg.stale_check_interval):
                await self._gather()
                wait = self._until_free_slot()
                if wait > 0:
                    # The slot is used: send at the next one, together with the polls due
                    # then. Sent alone, this message would use that slot and push the next
                    # tick's data a slot later, and so every tick after it.
                    await asyncio.sleep(wait + SLOT_SETTLE_S)
                    await self._gather()
            try:
                self._tick()
            except Exception:  # a bug in one payload must not end the stream
                log.exception("stream %s: could not build a message", self._label())

    async def _gather(self) -> None:
        """Wait while polls are under way (at most `gather`): their Snapshots join this
        message instead of waiting a whole slot for the next one."""
        deadline = time.monotonic() + self.config.gather
        while self.source.awaiting():
            left = deadline - time.monotonic()
            if left <= 0 or not await self._wait_for_change(left):
                return

    async def _wait_for_change(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        except TimeoutError:
            return False
        self._changed.clear()
        return True

    def _tick(self) -> None:
        self._close_stuck_clients()
        if not self.clients:
            self._sent_fingerprint = None  # the next client gets a snapshot anyway
            return
        now = self.clock()
        key = self.source.fingerprint(now)
        if key != self._sent_fingerprint:
            self._sent_fingerprint = key
            self._last_slot = self._slot(now)
            self.broadcast(self._compose("update", now))
        elif time.monotonic() - self._last_sent >= self.config.heartbeat_interval:
            self.broadcast(self._compose("heartbeat", now))

    def _slot(self, now: float) -> int:
        return math.floor(now / self.config.min_interval)

    def _until_free_slot(self) -> float:
        """0 if no update went out in the current slot, else the time to the next slot."""
        now = self.clock()
        if self._slot(now) != self._last_slot:
            return 0.0
        return (self._last_slot + 1) * self.config.min_interval - now

    def _compose(self, kind: MessageType, now: float) -> Frame:
        data, snapshot_ts = (None, None) if kind == "heartbeat" else self.source.payload(now)
        if kind == "update":
            self.seq += 1
            self._snapshot = None  # joiners from now on get this seq, so no gap is seen
        src = self.source
        return encode(kind, src.name, src.gateway, self.seq, now, snapshot_ts, data)

    def broadcast(self, frame: Frame) -> None:
        """Send one encoded frame to every client, eagerly; never waits for any of them."""
        self._last_sent = time.monotonic()
        wire = text_frame(frame["text"])  # framed once for every client's socket
        for client in tuple(self.clients):
            if not client.offer(frame, wire):
                self.clients.discard(client)  # closed; its connection calls leave() as it ends

    def _close_stuck_clients(self) -> None:
        now = time.monotonic()
        for client in [c for c in self.clients if c.stuck(now)]:
            client.close(CloseCode.TOO_SLOW, "client too slow: send blocked")
            self.clients.discard(client)

    def close_all(self, code: int, reason: str) -> None:
        for client in tuple(self.clients):
            client.close(code, reason)
        self.clients.clear()

    def _label(self) -> str:
        return self.source.gateway or self.source.name
