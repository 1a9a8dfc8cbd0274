"""Simulator noise: a client that hangs up mid-answer is normal; the
simulator logs neither an ERROR with a traceback nor asyncio's "socket.send() raised
exception." once per answer it would have sent."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct

import pytest
import requests

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
SIMULATOR_THREAD = "pwsim-loop"  # pypowerwall_server/simulator/runner.py
PIPELINED = 20_000  # more answers than the socket buffers hold: the simulator is mid-answer


def test_client_hanging_up_mid_answer_is_not_logged_as_an_error(caplog) -> None:
    caplog.set_level(logging.INFO)
    with running_simulator([SiteConfig.for_index(0)], admin=False) as sim:
        port = sim.gateways[0].port
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        for _ in range(3):
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect(("127.0.0.1", port))
            conn = context.wrap_socket(raw)
            conn.settimeout(1.0)
            with contextlib.suppress(TimeoutError, OSError):
                conn.sendall(b"GET /api/system_status HTTP/1.1\r\nHost: gw\r\n\r\n" * PIPELINED)
            conn.recv(1000)  # an answer has begun
            # Hang up hard (RST), as a client that crashed or timed out would.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        server = sim.cluster.server(sim.gateways[0].id)
        wait_until(lambda: server.open_connections == 0, 10)  # every hang-up handled
        assert sim.total_requests() > 0
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING and from_simulator(r)]
    assert not noisy, [f"{r.name}: {r.getMessage()}" for r in noisy[:5]]


def from_simulator(record: logging.LogRecord) -> bool:
    """A record of the simulator's event loop thread: caplog sees every thread of the test
    process, and a poller left behind by an earlier test (a hung library call is never
    waited for) may log its "connection refused" for a port this test never used."""
    return record.threadName == SIMULATOR_THREAD


def test_garbage_fault_on_a_logout_is_not_an_error(caplog) -> None:
    """A 204 answer has no body to garble; the simulator answered it with an ERROR."""
    caplog.set_level(logging.INFO)
    with running_simulator([SiteConfig.for_index(0)], admin=False) as sim:
        gw = sim.gateways[0]
        sim.set_fault(gw.id, Fault(kind="garbage"))
        session = requests.Session()
        login = session.post(
            f"https://{gw.host}/api/login/Basic",
            json={"username": "customer", "password": gw.config.customer_password},
            verify=False,
            timeout=5,
        )
        logout = session.get(f"https://{gw.host}/api/logout", verify=False, timeout=5)
    assert login.status_code == 200 and logout.status_code == 204
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING and from_simulator(r)]
    assert not [r.getMessage() for r in noisy]
