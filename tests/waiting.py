"""The one waiting helper of the test suite: poll a condition until it holds or time runs
out (then the test fails, naming the timeout)."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_S = 0.02


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(POLL_S)
    if predicate():  # a last look: the deadline may have passed during a slow check
        return
    raise AssertionError(f"condition not reached within {timeout} s")
