"""Run a coroutine synchronously up to its first real suspension (Python 3.12's eager tasks,
for 3.11).

Sending one WebSocket frame through the ASGI server almost always completes without
suspending (the socket is writable), so the broadcaster sends to thousands of clients in
one loop with no task per client; only a send that must wait (a client that does not read)
becomes a task, which the stream can cancel. The coroutine must not depend on the current
task (the first step runs in the caller's): the ASGI send path does not.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any


def run_eagerly(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None] | None:
    """None if the coroutine finished at once (exceptions propagate), else a Task running
    the rest of it."""
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    task = asyncio.get_running_loop().create_task(_resume(coro, yielded), name=name)
    # Cancelled before its first step, the task never enters _resume: close the coroutine
    # then, so its cleanup runs now (a no-op when it has finished).
    task.add_done_callback(lambda _: coro.close())
    return task


@types.coroutine
def _resume(coro: Coroutine[Any, Any, None], yielded: Any) -> Generator[Any, Any, None]:
    """Continue a started coroutine inside a Task (what `yield from` does)."""
    while True:
        try:
            value = yield yielded
        except BaseException as exc:  # cancellation included: hand it to the coroutine
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                yielded = coro.send(value)
            except StopIteration:
                return
