"""Worker threads for blocking gateway calls, and closing gateways on the way out.

A call to a dead gateway can block for the library's whole timeout, retries included. At
exit Python joins every ThreadPoolExecutor thread, and the logout in each adapter's close()
is one more such call: 4 hung gateways held SIGTERM for 20 s (Docker kills after 10). So
the workers are daemon threads (nothing they do must outlive the process), and closing runs
concurrently on them with one deadline for all gateways.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, Protocol, TypeVar

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
MAX_CLOSING_THREADS = 32
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreadPool(Executor):
    """ThreadPoolExecutor's contract (threads started on demand up to max_workers, idle
    ones reused) with daemon threads that the interpreter does not wait for at exit."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._max_workers = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._shut_down = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shut_down:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._jobs.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._jobs.put(None)  # wake the next worker: it stops too
                return
            future, fn, args, kwargs = job
            del job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut_down = True
            if cancel_futures:
                while True:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        job[0].cancel()
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


class Closable(Protocol):
    def close(self) -> None: ...


async def close_within(items: Sequence[Closable], seconds: float) -> int:
    """Close every item at once on daemon threads; wait at most `seconds` for all of them.
    Returns how many had not finished (their threads end with the process)."""
    if not items:
        return 0
    pool = DaemonThreadPool(min(len(items), MAX_CLOSING_THREADS), "gateway-close")
    futures = [asyncio.wrap_future(pool.submit(_close, item)) for item in items]
    _, pending = await asyncio.wait(futures, timeout=seconds)
    pool.shutdown(wait=False, cancel_futures=True)
    for future in pending:
        future.cancel()
    if pending:
        log.info("%d gateway(s) did not log out within %.1f s; leaving them", len(pending), seconds)
    return len(pending)


def _close(item: Closable) -> None:
    try:
        item.close()
    except Exception:  # closing a dead connection may fail; nothing to recover
        log.debug("close failed", exc_info=True)
