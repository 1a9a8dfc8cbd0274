"""Stream building blocks: origin rule (table), message format, eager sends, slow clients."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import orjson
import pytest

from pypowerwall_server.streams.broadcaster import StreamConfig
from pypowerwall_server.streams.client import Client
from pypowerwall_server.streams.eager import run_eagerly
from pypowerwall_server.streams.messages import CloseCode, Frame, encode
from pypowerwall_server.streams.origin import origin_allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "expected"),
    [
        (None, "pw:8675", (), True),  # not a browser
        ("http://pw:8675", "pw:8675", (), True),
        ("https://PW:8675/", "pw:8675", (), True),  # case, trailing slash, TLS proxy
        ("https://pw", "pw", (), True),  # default ports on both sides
        ("http://pw:8080", "pw:8675", (), False),
        ("http://evil.example", "pw:8675", (), False),
        ("http://pw.evil.example:8675", "pw:8675", (), False),
        ("null", "pw:8675", (), False),
        ("http://dash.example", "pw:8675", ("http://dash.example",), True),
        ("http://dash.example:81", "pw:8675", ("http://dash.example",), False),
        ("http://anything.example", "pw:8675", ("*",), True),
        ("http://pw:8675", None, (), False),
        ("ftp://pw:8675", "pw:8675", (), False),
    ],
)
def test_origin_allowed(
    origin: str | None, host: str | None, allowed: tuple[str, ...], expected: bool
) -> None:
    assert origin_allowed(origin, host, allowed) is expected


def test_message_format_v1() -> None:
    frame = encode("update", "gateway", "home", 7, 100.5, 99.0, {"x": orjson.Fragment(b"[1]")})
    assert frame["type"] == "websocket.send"
    assert orjson.loads(frame["text"]) == {
        "v": 1,
        "type": "update",
        "stream": "gateway",
        "gateway": "home",
        "seq": 7,
        "ts": 100.5,
        "snapshot_ts": 99.0,
        "data": {"x": [1]},
    }
    heartbeat = orjson.loads(encode("heartbeat", "aggregate", None, 7, 1.0, None)["text"])
    assert "data" not in heartbeat and heartbeat["type"] == "heartbeat"


async def test_run_eagerly_finishes_without_a_task_when_nothing_waits() -> None:
    done: list[int] = []

    async def quick() -> None:
        done.append(1)

    assert run_eagerly(quick(), "t") is None
    assert done == [1]


async def test_run_eagerly_continues_a_waiting_coroutine_in_a_task() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def waits() -> None:
        steps.append("start")
        await gate.wait()
        await asyncio.sleep(0)
        steps.append("end")

    task = run_eagerly(waits(), "t")
    assert task is not None and steps == ["start"]
    gate.set()
    await asyncio.wait_for(task, 1)
    assert steps == ["start", "end"]


async def test_run_eagerly_task_can_be_cancelled() -> None:
    cleaned: list[bool] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    task = run_eagerly(forever(), "t")
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


class FakeSocket:
    """An ASGI send that can be made to block, like a client that stopped reading."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.writable = asyncio.Event()
        self.writable.set()

    async def send(self, message: Frame) -> None:
        await self.writable.wait()
        self.frames.append(message)

    def texts(self) -> list[Any]:
        return [f.get("text") for f in self.frames if f["type"] == "websocket.send"]

    def closes(self) -> list[Any]:
        return [f["code"] for f in self.frames if f["type"] == "websocket.close"]


def frame(n: int) -> Frame:
    return {"type": "websocket.send", "text": str(n)}


async def test_client_sends_at_once_when_writable() -> None:
    sock = FakeSocket()
    client = Client(sock.send, "c", max_pending=2, send_timeout=1.0)
    for n in range(3):
        assert client.offer(frame(n))
    assert sock.texts() == ["0", "1", "2"] and client.sent == 3  # no await needed


async def test_blocked_client_queues_then_catches_up() -> None:
    sock = FakeSocket()
    sock.writable.clear()
    client = Client(sock.send, "c", max_pending=2, send_timeout=1.0)
    assert client.offer(frame(0)) and client.offer(frame(1)) and client.offer(frame(2))
    assert sock.texts() == []
    sock.writable.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert sock.texts() == ["0", "1", "2"]


async def test_client_that_falls_behind_is_closed_as_too_slow() -> None:
    sock = FakeSocket()
    sock.writable.clear()
    client = Client(sock.send, "c", max_pending=2, send_timeout=1.0)
    results = [client.offer(frame(n)) for n in range(5)]
    assert results == [True, True, True, False, False]
    assert client.close_code == CloseCode.TOO_SLOW
    await asyncio.wait_for(client.finished, 2)  # the close frame is not waited for forever


async def test_stuck_send_is_reported_after_the_timeout() -> None:
    sock = FakeSocket()
    sock.writable.clear()
    client = Client(sock.send, "c", max_pending=8, send_timeout=0.05)
    client.offer(frame(0))
    loop = asyncio.get_running_loop()
    assert not client.stuck(loop.time())
    await asyncio.sleep(0.1)
    import time

    assert client.stuck(time.monotonic())


async def test_peer_gone_finishes_without_a_close_frame() -> None:
    sock = FakeSocket()
    client = Client(sock.send, "c", max_pending=2, send_timeout=1.0)
    client.peer_gone(1000)
    assert client.finished.done() and sock.closes() == []
    assert not client.offer(frame(1))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_direct_text_frame_parses_as_one_websocket_text_frame(size: int) -> None:
    """The bytes written straight to sockets are what a WebSocket client library reads."""
    from websockets.frames import Frame as WsFrame
    from websockets.frames import Opcode
    from websockets.streams import StreamReader

    from pypowerwall_server.streams.direct import text_frame

    text = "é" * (size // 2) + "x" * (size % 2)
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    parser = WsFrame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode() == text


def test_update_slots_are_fixed_on_the_clock_not_on_the_last_send() -> None:
    """Regression: 'min_interval since the last message' locked every update to the phase
    of the first send (~420 ms Snapshot-to-client with 1 s polls)."""
    from pypowerwall_server.streams.broadcaster import Stream, StreamConfig

    class Quiet:
        name = "aggregate"
        gateway = None

        def fingerprint(self, now: float) -> object:
            return now  # every tick is a change

        def payload(self, now: float) -> tuple[Any, float | None]:
            return {}, now

        def awaiting(self) -> bool:
            return False

    async def check() -> None:
        clock = [100.47]
        stream = Stream(Quiet(), StreamConfig(min_interval=1.0), lambda: clock[0])
        stream.clients.add(Client(_noop_send, "c", 8, 5.0))
        stream._tick()  # an off-grid send at 100.47
        clock[0] = 100.9
        assert stream._until_free_slot() == pytest.approx(0.1)  # same slot: wait for 101.0
        clock[0] = 101.02  # a poll on the grid lands just after the slot boundary
        assert stream._until_free_slot() == 0.0  # sent at once, not at 101.47

    asyncio.run(check())


async def _noop_send(frame: Any) -> None:
    return None


class Pending:
    """A source whose data changes on every poke; `under_way` says a poll is not done."""

    name = "aggregate"
    gateway = None

    def __init__(self) -> None:
        self.under_way = True
        self.version = 0

    def fingerprint(self, now: float) -> object:
        return self.version

    def payload(self, now: float) -> tuple[Any, float | None]:
        return {"version": self.version}, now

    def awaiting(self) -> bool:
        return self.under_way


async def _run_stream(gather: float) -> tuple[Any, Pending, list[Any]]:
    from pypowerwall_server.streams.broadcaster import Stream, StreamConfig

    source = Pending()
    stream = Stream(source, StreamConfig(min_interval=0.01, gather=gather))
    sent: list[Any] = []

    async def collect(frame: Any) -> None:
        sent.append(orjson.loads(frame["text"]))

    stream.clients.add(Client(collect, "c", 8, 5.0))
    return stream, source, sent


async def _until_sent(sent: list[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not sent and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def test_an_update_waits_for_polls_under_way_and_carries_them() -> None:
    stream, source, sent = await _run_stream(gather=30.0)
    task = asyncio.create_task(stream.run())
    source.version = 1
    stream.poke()  # the first gateway published; another is still polling
    await asyncio.sleep(0.2)
    assert sent == []
    source.version, source.under_way = 2, False
    stream.poke()  # the last one published: one message with both
    await _until_sent(sent, 1.0)
    task.cancel()
    assert [m["data"]["version"] for m in sent] == [2]


async def test_a_poll_that_never_ends_delays_an_update_by_gather_at_most() -> None:
    stream, source, sent = await _run_stream(gather=0.05)
    task = asyncio.create_task(stream.run())
    source.version = 1
    stream.poke()
    await _until_sent(sent, 3.0)
    task.cancel()
    assert [m["data"]["version"] for m in sent] == [1]


async def test_a_deferred_change_waits_for_the_polls_due_at_the_next_slot() -> None:
    """Regression: a change deferred to the next slot was sent alone at its boundary, used
    that slot, and pushed the polls completing just after it a slot later, for good."""
    stream, source, sent = await _run_stream(gather=0.5)
    stream.config = StreamConfig(min_interval=1.0, gather=0.5)
    now = time.time()
    await asyncio.sleep(math.ceil(now) - now + 0.05)  # just after a slot boundary
    task = asyncio.create_task(stream.run())
    source.under_way, source.version = False, 1
    stream.poke()  # sent at once: this slot is free
    await asyncio.sleep(0.1)
    source.version = 2
    stream.poke()  # a second change in the slot: deferred to the next one
    now = time.time()
    await asyncio.sleep(math.ceil(now) - now - 0.05)
    source.under_way = True  # the polls of the next tick are about to be under way
    await asyncio.sleep(0.25)
    source.version, source.under_way = 3, False
    stream.poke()  # they published
    await asyncio.sleep(0.2)
    task.cancel()
    assert [m["data"]["version"] for m in sent] == [1, 3]
