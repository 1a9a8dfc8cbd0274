"""Issue 15 item 9: SIGTERM does not wait for hung gateways. A real server process polls 8
simulated gateways that then stop answering (every request hangs, the logout included);
SIGTERM ends it with exit code 0 within 3 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


def test_sigterm_with_hung_gateways_exits_0_within_3_s() -> None:
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
            time.sleep(1.5)  # every poller now waits on a request that never ends
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            finally:
                took = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
            output = proc.communicate(timeout=10)[0]
            sim.clear_faults()
    assert code == 0, output[-2000:]
    assert took <= 3.0, f"{took:.1f} s"
    assert "Traceback" not in output
