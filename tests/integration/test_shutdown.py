"""SIGTERM does not wait for hung gateways, nor for clients.
A real server process polls 8 simulated gateways that then stop answering (every request
hangs, the logout included) while clients keep requesting; SIGTERM ends it with exit code 0
within 3 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

from .test_demo import free_port

pytestmark = pytest.mark.integration
GATEWAYS = 8
GATEWAY_TIMEOUT_S = 5.0  # each hung request would take this long (the logout too)
CLIENTS = 4
LOAD_PATHS = ("/aggregates", "/api/gateways", "/api/aggregate/power", "/soe")


def keep_requesting(base: str, stop: threading.Event, answers: list[int]) -> None:
    """One keep-alive client asking in a loop until told to stop or the server is gone."""
    with httpx.Client(base_url=base, timeout=2) as client:
        while not stop.is_set():
            for path in LOAD_PATHS:
                try:
                    answers.append(client.get(path).status_code)
                except httpx.HTTPError:
                    return


def test_sigterm_with_hung_gateways_under_client_load_exits_0_within_3_s() -> None:
    sites = [SiteConfig.for_index(i, seed=11) for i in range(GATEWAYS)]
    with running_simulator(sites, admin=False) as sim:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PW_")}
        env["PW_GATEWAYS"] = json.dumps(
            [
                {
                    "id": gw.id,
                    "host": gw.host,
                    "password": gw.config.customer_password,
                    "email": gw.config.customer_email,
                    "poll_interval": 0.5,
                    "timeout": GATEWAY_TIMEOUT_S,
                }
                for gw in sim.gateways
            ]
        )
        command = [sys.executable, "-m", "pypowerwall_server", "--port", str(port)]
        command += ["--bind-address", "127.0.0.1"]
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:

            def healthy() -> bool:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                except httpx.HTTPError:
                    return False
                return bool(health["status"] == "healthy")

            wait_until(healthy, 30)
            for gw in sim.gateways:
                sim.set_fault(gw.id, Fault(kind="hang"))
            stop, answers = threading.Event(), []
            base = f"http://127.0.0.1:{port}"
            clients = [
                threading.Thread(target=keep_requesting, args=(base, stop, answers))
                for _ in range(CLIENTS)
            ]
            for client in clients:
                client.start()
            time.sleep(1.5)  # every poller now waits on a request that never ends
            served_before_sigterm = len(answers)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            finally:
                took = time.monotonic() - started
                stop.set()
                for client in clients:
                    client.join(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
            output = proc.communicate(timeout=10)[0]
            sim.clear_faults()
    assert served_before_sigterm > 0, "the clients were answered while the gateways hung"
    assert code == 0, output[-2000:]
    assert took <= 3.0, f"{took:.1f} s"
    assert "Traceback" not in output
