"""Gateway workers never hold the process at exit; closing is bounded."""

from __future__ import annotations

import threading
import time

from pypowerwall_server.gateway.daemon_threads import DaemonThreadPool, close_within


def test_sigterm_workers_are_daemons_and_run_jobs() -> None:
    pool = DaemonThreadPool(2, "t")
    futures = [pool.submit(lambda x: x * 2, i) for i in range(5)]
    assert [f.result(timeout=5) for f in futures] == [0, 2, 4, 6, 8]
    assert all(t.daemon for t in pool._threads) and len(pool._threads) <= 2
    pool.shutdown(wait=True)


def test_sigterm_shutdown_cancels_queued_jobs_without_waiting_for_a_hung_one() -> None:
    release = threading.Event()
    pool = DaemonThreadPool(1, "t")
    hung = pool.submit(release.wait, 10)
    queued = pool.submit(lambda: 1)
    time.sleep(0.05)
    pool.shutdown(wait=False, cancel_futures=True)
    assert queued.cancelled() and not hung.done()
    release.set()
    assert hung.result(timeout=5) is True


class Hangs:
    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.closed = False

    def close(self) -> None:
        self.release.wait(10)
        self.closed = True


class Quick:
    closed = False

    def close(self) -> None:
        self.closed = True


async def test_sigterm_close_within_leaves_hung_gateways_behind() -> None:
    release = threading.Event()
    items = [Hangs(release) for _ in range(8)] + [Quick()]
    try:
        left = await close_within(items, 0.2)
    finally:
        release.set()
    assert left == 8 and items[-1].closed
