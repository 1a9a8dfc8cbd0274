"""The lean replacements of uvicorn's per-connection state behave as uvicorn's own do
(http/lean_connection.py), and hold less."""

from __future__ import annotations

import asyncio
import sys
import tracemalloc
from collections import deque
from typing import Any

import pytest
from uvicorn.protocols.http.flow_control import FlowControl

from pypowerwall_server.http.lean_connection import LeanFlowControl, Pipeline


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause_reading")

    def resume_reading(self) -> None:
        self.calls.append("resume_reading")


def test_pipeline_is_first_in_first_out_like_uvicorns_deque() -> None:
    ours, theirs = Pipeline(), deque[Any]()
    assert not ours and not theirs
    for item in ("first", "second", "third"):
        ours.appendleft(item)
        theirs.appendleft(item)
    assert bool(ours) and [ours.pop(), ours.pop()] == [theirs.pop(), theirs.pop()] == [
        "first",
        "second",
    ]
    assert list(ours) == list(theirs) == ["third"]
    assert sys.getsizeof(Pipeline()) * 4 < sys.getsizeof(deque())


async def _drain_finished(flow: FlowControl) -> bool:
    """Whether drain() returns without the writes being resumed."""
    try:
        await asyncio.wait_for(flow.drain(), 0.05)
    except TimeoutError:
        return False
    return True


@pytest.mark.parametrize("kind", [FlowControl, LeanFlowControl])
def test_flow_control_pauses_and_resumes_as_uvicorns(kind: type[FlowControl]) -> None:
    async def scenario() -> list[Any]:
        transport = RecordingTransport()
        flow = kind(transport)  # type: ignore[arg-type]
        seen: list[Any] = [await _drain_finished(flow)]  # writable from the start
        flow.pause_reading()
        flow.pause_reading()  # once only
        flow.resume_reading()
        flow.pause_writing()
        seen += [flow.read_paused, flow.write_paused, await _drain_finished(flow)]
        waiting = asyncio.ensure_future(flow.drain())
        await asyncio.sleep(0.01)
        seen.append(waiting.done())
        flow.resume_writing()
        await asyncio.wait_for(waiting, 1)  # a paused drain() ends when writes resume
        flow.resume_writing()  # a second resume changes nothing
        seen += [flow.write_paused, await _drain_finished(flow), transport.calls]
        return seen

    assert asyncio.run(scenario()) == [
        True,
        False,
        True,
        False,
        False,
        False,
        True,
        ["pause_reading", "resume_reading"],
    ]


def test_lean_state_holds_a_fraction_of_uvicorns() -> None:
    """3,000 connections' worth, as a trickling attack opens them (the abuse benchmark)."""

    def allocated(make: Any) -> int:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = [make() for _ in range(3000)]
        size = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del kept
        return size

    transport = RecordingTransport()

    async def sizes() -> tuple[int, int]:
        lean = allocated(lambda: (Pipeline(), LeanFlowControl(transport)))  # type: ignore[arg-type]
        uvicorns = allocated(lambda: (deque(), FlowControl(transport)))  # type: ignore[arg-type]
        return lean, uvicorns

    lean, uvicorns = asyncio.run(sizes())
    assert uvicorns - lean > 3000 * 1000  # over 1 KB a connection given back
