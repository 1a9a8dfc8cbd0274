"""A transport's own thread (gateway/link_worker.py): a hung call counts as failed after the
deadline and holds only its own thread; further calls fail at once until it returns."""

from __future__ import annotations

import threading

import pytest

from pypowerwall_server.errors import GatewayUnreachable
from pypowerwall_server.gateway.link_worker import LinkWorker
from tests.waiting import wait_until


def test_hung_call_is_cut_off_and_the_transport_fails_fast_until_it_returns() -> None:
    worker = LinkWorker("tedapi")
    release = threading.Event()
    try:
        with pytest.raises(GatewayUnreachable, match=r"tedapi did not answer within 0\.05 s"):
            worker.call(lambda: release.wait(10), 0.05)
        with pytest.raises(GatewayUnreachable, match="an earlier call has not returned yet"):
            worker.call(lambda: "never run", 0.05)
        release.set()

        def answers() -> bool:  # the hung call returns; then the transport works again
            try:
                return worker.call(lambda: "answer", 5.0) == "answer"
            except GatewayUnreachable:
                return False

        wait_until(answers, 2.0)
    finally:
        release.set()
        worker.close()


def test_calls_run_on_the_transports_own_thread() -> None:
    worker = LinkWorker("fleetapi")
    try:
        name = worker.call(lambda: threading.current_thread().name, 5.0)
        assert name != threading.current_thread().name and "transport-fleetapi" in name
    finally:
        worker.close()
