"""No configured secret appears in the log of a real server run, even with --debug and a
gateway that refuses the password (the case where libraries like to print credentials)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator

from .server_process import free_port

pytestmark = pytest.mark.integration  # starts a server or the simulator

GW_PWD = "ZXCVBNMASD"
PASSWORD = "customer-secret-9137"


def test_no_secret_in_log_or_responses_of_a_debug_run() -> None:
    sites = [
        SiteConfig(gateway_id="ted", gw_pwd=GW_PWD, customer_password="unused-a"),
        SiteConfig(gateway_id="loc", seed=3, customer_password=PASSWORD, gw_pwd="UNUSEDPWDB"),
    ]
    with running_simulator(sites, admin=False) as sim:
        ted, loc = sim.gateways
        sim.set_fault("loc", Fault(kind="wrong_password", duration=3.0))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PW_")}
        env["PW_GATEWAYS"] = json.dumps(
            [
                {"id": "ted", "host": ted.host, "gw_pwd": GW_PWD, "poll_interval": 0.5},
                {
                    "id": "loc",
                    "host": loc.host,
                    "password": PASSWORD,
                    "email": "a@b.c",
                    "poll_interval": 0.5,
                },
            ]
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pypowerwall_server",
                "--debug",
                "--port",
                str(port),
                "--bind-address",
                "127.0.0.1",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        bodies = []
        try:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                for path in ("/stats", "/api/gateways", "/health", "/aggregates"):
                    with contextlib.suppress(httpx.TransportError):
                        bodies.append(httpx.get(f"http://127.0.0.1:{port}{path}").text)
                time.sleep(0.3)
        finally:
            proc.terminate()
            output, _ = proc.communicate(timeout=15)
    assert "Uvicorn running" in output or "Application startup complete" in output
    assert "gateway loc: auth_failed" in output  # the wrong password was seen and logged
    assert any('"ted"' in body for body in bodies)
    for secret in (GW_PWD, PASSWORD):
        assert secret not in output
        assert all(secret not in body for body in bodies)
