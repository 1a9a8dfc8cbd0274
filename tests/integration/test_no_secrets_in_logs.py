"""No configured secret appears in the log of a real server run, even with --debug and a
gateway that refuses the password (the case where libraries like to print credentials)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

from .server_process import free_port

pytestmark = pytest.mark.integration  # starts a server or the simulator

GW_PWD = "ZXCVBNMASD"
PASSWORD = "customer-secret-9137"
CONTROL_SECRET = "control-secret-5521"


def control_requests(base: str) -> list[str]:
    """Writes that log an audit line: the right token (the TEDAPI gateway cannot write),
    the token sent as the value by mistake, a wrong token, the token in the URL."""
    bearer = {"Authorization": f"Bearer {CONTROL_SECRET}"}
    with httpx.Client(base_url=base, timeout=15) as client:
        answers = [
            client.post("/gw/ted/control/reserve", json={"value": 30}, headers=bearer),
            client.post("/gw/ted/control/mode", json={"value": CONTROL_SECRET}, headers=bearer),
            client.post("/control/reserve", data={"value": "30", "token": "wrong"}),
            client.post(f"/control/reserve?token={CONTROL_SECRET}", json={"value": 30}),
            client.get("/api/control/audit", headers=bearer),
            client.get("/api/control"),
        ]
    return [answer.text for answer in answers]


def test_no_secret_in_log_or_responses_of_a_debug_run(tmp_path: Path) -> None:
    sites = [
        SiteConfig(gateway_id="ted", gw_pwd=GW_PWD, customer_password="unused-a"),
        SiteConfig(gateway_id="loc", seed=3, customer_password=PASSWORD, gw_pwd="UNUSEDPWDB"),
    ]
    with running_simulator(sites, admin=False) as sim:
        ted, loc = sim.gateways
        # Until the server has seen it (a 3 s fault ended before a busy machine's server
        # had started).
        sim.set_fault("loc", Fault(kind="wrong_password"))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PW_")}
        env["PW_CONTROL_SECRET"] = CONTROL_SECRET
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
        log_file = (tmp_path / "server.log").open("w")
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
            stdout=log_file,  # a file, not a pipe: a full pipe would stall the server
            stderr=subprocess.STDOUT,
            text=True,
        )
        bodies: list[str] = []

        def read_until_refusal_logged() -> bool:
            for path in ("/stats", "/api/gateways", "/health", "/aggregates"):
                with contextlib.suppress(httpx.TransportError):
                    bodies.append(httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).text)
            log = (tmp_path / "server.log").read_text()
            return "gateway loc: auth_failed" in log and any('"ted"' in b for b in bodies)

        try:
            wait_until(read_until_refusal_logged, 60)
            sim.clear_faults("loc")
            bodies += control_requests(f"http://127.0.0.1:{port}")
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log_file.close()
    output = (tmp_path / "server.log").read_text()
    assert "Uvicorn running" in output or "Application startup complete" in output
    assert "gateway loc: auth_failed" in output  # the wrong password was seen and logged
    assert any('"ted"' in body for body in bodies)
    assert "control write: client=127.0.0.1 gateway=ted what=mode" in output  # audited
    assert '"entries"' in bodies[-2]  # the audit route answered with the right token
    for secret in (GW_PWD, PASSWORD, CONTROL_SECRET):
        assert secret not in output
        assert all(secret not in body for body in bodies)
