"""Load client for the WebSocket streams: many connections from one process (asyncio, with
websockets' sans-I/O protocol: no task per connection, so the receiver stays cheap).

Usage:
    python benchmarks/ws_load.py --url ws://127.0.0.1:8675/ws/aggregate --clients 5000 \
        --duration 60 [--ramp 250] [--compression none|deflate] [--procs 1] [--json out.json]

Every client connects (at most --ramp handshakes at a time), reads for --duration seconds
after the last one connected, then closes. Reported (JSON on stdout, and --json FILE):
- per-client counts of updates, heartbeats, and seq gaps (an update the client never got);
- delays, measured against the receiver's clock (same machine): `fanout` = message `ts`
  (when the server composed it) to receipt; `data` = each gateway Snapshot's creation time
  (`updated_at` in the aggregate stream, `snapshot_ts` in a gateway stream) to the receipt of
  the first message that carries it;
- payload bytes per client per second (decompressed text; with deflate the wire carries less);
- close codes of connections the server ended.
With --procs N the clients are split over N processes (the receiver's own CPU adds to the
delays it measures; more processes measure the server more fairly on a multi-core box).
--delta-estimate: for the first client, also the size a field-level delta would have had.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.typing import Origin
from websockets.uri import parse_uri

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class ClientStats:
    updates: int = 0
    heartbeats: int = 0
    snapshots: int = 0
    gaps: int = 0
    bytes: int = 0
    close_code: int | None = None
    error: str | None = None
    last_seq: int | None = None
    seen: dict[str, float] = field(default_factory=dict)  # gateway -> newest data time


@dataclass
class Totals:
    fanout: list[float] = field(default_factory=list)
    data: list[float] = field(default_factory=list)
    full_sizes: list[int] = field(default_factory=list)
    delta_sizes: list[int] = field(default_factory=list)


def data_times(message: dict[str, Any]) -> dict[str, float]:
    """Each gateway's data time carried by a message."""
    data = message.get("data") or {}
    if message["stream"] == "aggregate":
        return {g["id"]: g["updated_at"] for g in data.get("gateways", ()) if g["updated_at"]}
    ts = message.get("snapshot_ts")
    return {message["gateway"]: ts} if ts else {}


def record(stats: ClientStats, totals: Totals, message: dict[str, Any], now: float) -> None:
    kind = message["type"]
    if kind == "heartbeat":
        stats.heartbeats += 1
        return
    if kind == "snapshot":
        stats.snapshots += 1
    else:
        stats.updates += 1
        totals.fanout.append(now - message["ts"])
        if stats.last_seq is not None and message["seq"] > stats.last_seq + 1:
            stats.gaps += message["seq"] - stats.last_seq - 1
    stats.last_seq = message["seq"]
    for gateway, taken in data_times(message).items():
        if taken != stats.seen.get(gateway):
            if kind == "update":
                totals.data.append(now - taken)
            stats.seen[gateway] = taken


def delta(old: Any, new: Any) -> Any:
    """Changed leaves only (None = unchanged); lists are replaced whole if they differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed = {k: d for k in new if (d := delta(old.get(k), new[k])) is not None}
        return changed or None
    return None if old == new else new


class Connection(asyncio.Protocol):
    """One client on websockets' sans-I/O protocol (used with --compression deflate)."""

    def __init__(self, args: argparse.Namespace, stats: ClientStats, totals: Totals) -> None:
        extensions = [ClientPerMessageDeflateFactory()] if args.compression == "deflate" else None
        origin = Origin(args.origin) if args.origin else None
        self.ws = ClientProtocol(
            parse_uri(args.url), origin=origin, extensions=extensions, max_size=None
        )
        self.stats, self.totals = stats, totals
        self.measure = False
        self.previous: Any = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self._message(bytes(event.data))
        if self.ws.close_rcvd is not None:
            self.stats.close_code = self.ws.close_rcvd.code
        self._flush()

    def _message(self, text: bytes, received: float | None = None) -> None:
        now = time.time() if received is None else received
        self.stats.bytes += len(text)
        message = orjson.loads(text)
        record(self.stats, self.totals, message, now)
        if self.measure and message["type"] != "heartbeat":
            self.totals.full_sizes.append(len(text))
            if self.previous is not None:
                change = delta(self.previous, message["data"])
                self.totals.delta_sizes.append(len(orjson.dumps(change)))
            self.previous = message["data"]

    def _flush(self) -> None:
        pending = self.ws.data_to_send()
        if pending and self.transport is not None:
            self.transport.write(b"".join(pending))
        if self.ws.close_expected() and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ws.handshake_exc is not None:
            self.stats.error = f"handshake: {self.ws.handshake_exc}"
        elif self.stats.close_code is None and self.stats.snapshots == 0:
            self.stats.error = f"lost: {exc}"
        if not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.ws.send_close(1000)
            self._flush()
            self.transport.close()


class LeanConnection(asyncio.Protocol):
    """One uncompressed client that parses frames itself: the receiver shares the server's
    cores, and websockets' pure-Python frame parser cost ~4x more per message, which showed
    up in the very delays this client measures. Handles what the server sends: text, ping,
    close; fragments are joined."""

    def __init__(self, args: argparse.Namespace, stats: ClientStats, totals: Totals) -> None:
        self.uri = parse_uri(args.url)
        self.origin: str | None = args.origin
        self.stats, self.totals = stats, totals
        self.measure = False
        self.previous: Any = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.open = False
        self.fragments: list[bytes] = []
        self.key = base64.b64encode(os.urandom(16)).decode()
        # While measuring, messages are only timestamped and kept; they are parsed after the
        # window (replay()), so the receiver's parsing does not delay later receipts.
        self.deferred: list[tuple[float, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        lines = [
            f"GET {self.uri.resource_name} HTTP/1.1",
            f"Host: {self.uri.host}:{self.uri.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self.key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.origin:
            lines.append(f"Origin: {self.origin}")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        if self.open and not self.buffer and not self.fragments and data[:1] == b"\x81":
            # The common case: exactly one whole text frame.
            size, start = data[1], 2
            if size == 126:
                size, start = int.from_bytes(data[2:4], "big"), 4
            if size < 127 and len(data) == start + size:
                self._text(data[start:])
                return
        self.buffer += data
        if not self.open and not self._handshake():
            return
        self._frames()

    def _text(self, text: bytes) -> None:
        if self.deferred is not None:
            self.deferred.append((time.time(), text))
        else:
            self._message(text)

    def replay(self) -> None:
        """Parse the messages kept while measuring, with their receipt times."""
        kept, self.deferred = self.deferred or [], None
        for received, text in kept:
            self._message(text, received)

    def _handshake(self) -> bool:
        head, sep, rest = self.buffer.partition(b"\r\n\r\n")
        if not sep:
            return False
        status = head.split(b"\r\n", 1)[0]
        accept = base64.b64encode(hashlib.sha1((self.key + WS_GUID).encode()).digest())
        if b" 101 " not in status or accept not in head:
            self.stats.error = f"handshake: {status.decode(errors='replace')}"
            self._close_transport()
            return False
        self.open, self.buffer = True, rest
        return True

    def _frames(self) -> None:
        buf, at = self.buffer, 0
        while len(buf) - at >= 2:
            first, length = buf[at], buf[at + 1] & 0x7F
            start = at + 2
            if length == 126:
                if len(buf) - at < 4:
                    break
                length, start = int.from_bytes(buf[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                if len(buf) - at < 10:
                    break
                length, start = int.from_bytes(buf[at + 2 : at + 10], "big"), at + 10
            if len(buf) - start < length:
                break
            self._frame(first & 0x80 != 0, first & 0x0F, buf[start : start + length])
            at = start + length
        self.buffer = buf[at:]

    def _frame(self, fin: bool, opcode: int, payload: bytes) -> None:
        if opcode in (0x1, 0x0):  # text, continuation
            self.fragments.append(payload)
            if fin:
                text, self.fragments = b"".join(self.fragments), []
                self._text(text)
        elif opcode == 0x9:  # ping
            self._send(0xA, payload)
        elif opcode == 0x8:  # close
            if len(payload) >= 2:
                self.stats.close_code = int.from_bytes(payload[:2], "big")
            self._send(0x8, payload[:2])
            self._close_transport()

    _message = Connection._message

    def _send(self, opcode: int, payload: bytes) -> None:
        """A masked client frame (payloads here are under 126 bytes)."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)

    def _close_transport(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stats.error is None and self.stats.close_code is None and not self.stats.snapshots:
            self.stats.error = f"lost: {exc}"
        if not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


async def run_client(args: argparse.Namespace, conn: Connection | LeanConnection) -> None:
    uri = parse_uri(args.url)
    loop = asyncio.get_running_loop()
    try:
        await loop.create_connection(lambda: conn, uri.host, uri.port)
    except OSError as exc:
        conn.stats.error = f"{type(exc).__name__}: {exc}"
        return
    await conn.done


async def run_many(args: argparse.Namespace, count: int, first: bool) -> dict[str, Any]:
    stats = [ClientStats() for _ in range(count)]
    totals = Totals()
    gate = asyncio.Semaphore(args.ramp)
    connected = 0
    connections: list[Connection | LeanConnection] = []
    kind = LeanConnection if args.compression == "none" else Connection

    async def one(i: int) -> None:
        nonlocal connected
        conn = kind(args, stats[i], totals)
        conn.measure = first and i == 0 and args.delta
        connections.append(conn)
        async with gate:
            task = asyncio.create_task(run_client(args, conn))
            while stats[i].snapshots == 0 and not task.done():
                await asyncio.sleep(0.01)
        connected += 1
        await task

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    while connected < count and not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    for s in stats:  # count from here: the ramp-up is not part of the measurement
        s.updates = s.heartbeats = s.gaps = s.bytes = 0
    totals.fanout.clear()
    totals.data.clear()
    for conn in connections:
        if isinstance(conn, LeanConnection):
            conn.deferred = []
    started = time.monotonic()
    await asyncio.sleep(args.duration)
    elapsed = time.monotonic() - started
    for conn in connections:
        conn.close()
    await asyncio.wait(tasks, timeout=10)
    for conn in connections:
        if isinstance(conn, LeanConnection):
            conn.replay()
    return raw_result(stats, totals, elapsed)


def raw_result(stats: list[ClientStats], totals: Totals, elapsed: float) -> dict[str, Any]:
    return {
        "elapsed": elapsed,
        "updates": [s.updates for s in stats],
        "heartbeats": [s.heartbeats for s in stats],
        "gaps": [s.gaps for s in stats],
        "bytes": [s.bytes for s in stats],
        "closed": [s.close_code for s in stats if s.close_code is not None],
        "errors": [s.error for s in stats if s.error],
        "connected": sum(1 for s in stats if s.snapshots),
        "fanout": totals.fanout,
        "data": totals.data,
        "full_sizes": totals.full_sizes,
        "delta_sizes": totals.delta_sizes,
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(ordered[-1] * 1000, 1)}


def summarize(parts: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    merged: dict[str, Any] = {k: [] for k in parts[0] if isinstance(parts[0][k], list)}
    for part in parts:
        for key in merged:
            merged[key].extend(part[key])
    elapsed = max(p["elapsed"] for p in parts)
    updates, rates = merged["updates"], [b / elapsed for b in merged["bytes"]]
    result = {
        "url": args.url,
        "clients": args.clients,
        "connected": sum(p["connected"] for p in parts),
        "seconds": round(elapsed, 1),
        "updates_per_client": _spread(updates),
        "heartbeats_per_client": _spread(merged["heartbeats"]),
        "missed_updates_total": sum(merged["gaps"]),
        "clients_with_gaps": sum(1 for g in merged["gaps"] if g),
        "delay_ms_fanout": percentiles(merged["fanout"]),
        "delay_ms_data": percentiles(merged["data"]),
        "bytes_per_client_per_s": {
            "mean": round(statistics.fmean(rates), 1) if rates else None,
            "max": round(max(rates), 1) if rates else None,
        },
        "closed_by_server": _count(merged["closed"]),
        "errors": _count(merged["errors"]),
    }
    if merged["full_sizes"]:
        result["message_bytes_full_mean"] = round(statistics.fmean(merged["full_sizes"]))
    if merged["delta_sizes"]:
        result["message_bytes_delta_mean"] = round(statistics.fmean(merged["delta_sizes"]))
    return result


def _spread(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _count(values: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def _worker(args: argparse.Namespace, count: int, first: bool) -> dict[str, Any]:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    return asyncio.run(run_many(args, count, first))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8675/ws/aggregate")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--duration", type=float, default=30.0, help="s, after all connected")
    parser.add_argument("--ramp", type=int, default=250, help="handshakes in flight at once")
    parser.add_argument("--compression", choices=("none", "deflate"), default="none")
    parser.add_argument("--origin", default=None, help="send this Origin header")
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--delta-estimate", dest="delta", action="store_true")
    parser.add_argument("--json", default=None, help="also write the summary to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    procs = max(1, min(args.procs, args.clients))
    shares = [args.clients // procs + (1 if i < args.clients % procs else 0) for i in range(procs)]
    if procs == 1:
        parts = [_worker(args, shares[0], True)]
    else:
        with multiprocessing.get_context("spawn").Pool(procs) as pool:
            parts = pool.starmap(_worker, [(args, n, i == 0) for i, n in enumerate(shares)])
    summary = summarize(parts, args)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")
    return 0 if summary["connected"] == args.clients and not summary["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
