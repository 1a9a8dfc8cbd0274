"""The abusive clients of the abuse part (benchmarks/abuse.py), in one asyncio process:
N connections that trickle a request head and never finish it, plus one that sends a header
of up to 200 MB. Prints one JSON object: when the server closed each slow connection, what
it answered, and how much of the big header it took.

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
from typing import Any

TRICKLE_EVERY_S = 1.0
OPEN_BATCH = 250  # connections opened at a time (the listen backlog is finite)
BIG_CHUNK = 64 * 1024


async def slow_connection(port: int, give_up_s: float, every_s: float) -> dict[str, Any]:
    """Open, send a head line by line, never the blank line; return when the server closes."""
    opened = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        return {"connected": False, "error": type(exc).__name__}
    opened = time.monotonic()
    answer = b""

    async def trickle() -> None:
        writer.write(b"GET /aggregates HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(int(give_up_s / every_s)):
            await asyncio.sleep(every_s)
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()

    sender = asyncio.create_task(trickle())
    closed_by_server = True  # until the client gives up first
    try:
        async with asyncio.timeout(give_up_s):
            while chunk := await reader.read(4096):
                answer += chunk
    except TimeoutError:
        closed_by_server = False
    except OSError:  # reset by the server
        pass
    sender.cancel()
    with contextlib.suppress(BaseException):
        await sender
    writer.close()
    return {
        "connected": True,
        "closed_by_server": closed_by_server,
        "closed_after_s": time.monotonic() - opened,
        "status": answer.split(b"\r\n", 1)[0].decode("latin-1"),
    }


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
    big = asyncio.create_task(big_header(port, big_bytes))
    tasks = []
    for start in range(0, slow, OPEN_BATCH):
        batch = min(OPEN_BATCH, slow - start)
        opened = (slow_connection(port, give_up_s, every_s) for _ in range(batch))
        tasks += [asyncio.create_task(coroutine) for coroutine in opened]
        await asyncio.sleep(0.05)
    slow_results = await asyncio.gather(*tasks)
    return {"slow": slow_results, "big_header": await big}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow", type=int, default=3000)
    parser.add_argument("--big-bytes", type=int, default=200 * 1024 * 1024)
    parser.add_argument("--give-up", type=float, default=30.0, help="s before the client quits")
    parser.add_argument("--every", type=float, default=TRICKLE_EVERY_S, help="s between lines")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.port, args.slow, args.big_bytes, args.give_up, args.every))
    args.json.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
