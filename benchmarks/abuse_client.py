"""The abusive clients of the abuse part (benchmarks/abuse.py), in one process: N connections
that trickle a request head and never finish it, plus one that sends a header of up to
200 MB. Writes one JSON object: when the server closed each slow connection, what it
answered, how many header lines were sent, and how much of the big header it took.

The slow connections are opened in batches of OPEN_BATCH, and each batch sends its next
line to all of its connections at once, every TRICKLE_EVERY_S (as slowloris does: a burst
to every socket, then a pause). One timer per batch and plain transports, on uvloop when
installed: the attack must cost this process little CPU, since on a small machine that CPU
is taken from the server or wrk (an attacker elsewhere costs the server nothing of it).

`python benchmarks/abuse_client.py --port P --slow 3000 --json OUT`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, cast

TRICKLE_EVERY_S = 1.0
OPEN_BATCH = 250  # connections opened at a time (the listen backlog is finite)
BIG_CHUNK = 64 * 1024
REQUEST_LINE = b"GET /aggregates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SLOW_LINE = b"X-Slow: 1\r\n"


class SlowConnection(asyncio.Protocol):
    """One trickling client: remembers what the server answered and when it closed."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.opened = 0.0
        self.answer = b""
        self.closed_after: float | None = None  # None: still open (the server never closed)
        self.lines = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it
        self.opened = time.monotonic()
        self.transport.write(REQUEST_LINE)

    def data_received(self, data: bytes) -> None:
        if len(self.answer) < 4096:
            self.answer += data

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_after = time.monotonic() - self.opened

    def send_line(self) -> None:
        if self.closed_after is None and self.transport is not None:
            self.transport.write(SLOW_LINE)
            self.lines += 1

    def result(self) -> dict[str, Any]:
        closed = self.closed_after is not None
        return {
            "connected": True,
            "closed_by_server": closed,
            "closed_after_s": self.closed_after,
            "status": self.answer.split(b"\r\n", 1)[0].decode("latin-1"),
            "lines": self.lines,
        }


async def open_batch(port: int, size: int) -> list[SlowConnection | dict[str, Any]]:
    loop = asyncio.get_running_loop()

    async def one() -> SlowConnection | dict[str, Any]:
        try:
            _, protocol = await loop.create_connection(SlowConnection, "127.0.0.1", port)
        except OSError as exc:
            return {"connected": False, "error": type(exc).__name__}
        return protocol

    return list(await asyncio.gather(*(one() for _ in range(size))))


async def trickle(batch: list[SlowConnection], every_s: float, until: float) -> None:
    """Send the next line to every connection of the batch at once, every `every_s`."""
    while time.monotonic() + every_s < until:
        await asyncio.sleep(every_s)
        for connection in batch:
            connection.send_line()
        if all(c.closed_after is not None for c in batch):
            return


async def big_header(port: int, max_bytes: int) -> dict[str, Any]:
    """Send one header of up to max_bytes, reading meanwhile; return how much the server
    took before it answered and closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(reader.read(4096))
    writer.write(b"GET /aggregates HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
    sent, chunk = 0, b"a" * BIG_CHUNK
    started = time.monotonic()
    with contextlib.suppress(OSError, TimeoutError):
        while sent < max_bytes and not answer.done():
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 10)
            sent += len(chunk)
    refused_after = time.monotonic() - started
    received = b""
    with contextlib.suppress(OSError, TimeoutError):
        received = await asyncio.wait_for(answer, 2)
    writer.close()
    return {
        "bytes_sent": sent,
        "refused_after_s": refused_after,
        "status": received.split(b"\r\n", 1)[0].decode("latin-1"),
    }


async def run(
    port: int, slow: int, big_bytes: int, give_up_s: float, every_s: float
) -> dict[str, Any]:
    until = time.monotonic() + give_up_s
    big = asyncio.create_task(big_header(port, big_bytes))
    opened: list[SlowConnection | dict[str, Any]] = []
    trickles = []
    for start in range(0, slow, OPEN_BATCH):
        batch = await open_batch(port, min(OPEN_BATCH, slow - start))
        opened += batch
        connected = [c for c in batch if isinstance(c, SlowConnection)]
        trickles.append(asyncio.create_task(trickle(connected, every_s, until)))
        await asyncio.sleep(0.05)
    await asyncio.gather(*trickles)
    # Until the give-up time, wait for the server to close what is still open.
    while time.monotonic() < until and any(
        isinstance(c, SlowConnection) and c.closed_after is None for c in opened
    ):
        await asyncio.sleep(0.1)
    results = [c.result() if isinstance(c, SlowConnection) else c for c in opened]
    for connection in opened:
        if isinstance(connection, SlowConnection) and connection.transport is not None:
            connection.transport.abort()
    return {"slow": results, "big_header": await big}


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # the server's dependency; plain asyncio costs ~3x the CPU here
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow", type=int, default=3000)
    parser.add_argument("--big-bytes", type=int, default=200 * 1024 * 1024)
    parser.add_argument("--give-up", type=float, default=30.0, help="s before the client quits")
    parser.add_argument("--every", type=float, default=TRICKLE_EVERY_S, help="s between lines")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    with asyncio.Runner(loop_factory=new_loop) as runner:
        result = runner.run(run(args.port, args.slow, args.big_bytes, args.give_up, args.every))
    args.json.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
