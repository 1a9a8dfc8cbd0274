"""Log injection: a gateway's garbage body (NUL, ESC, CR, LF) reaches neither the log nor
/health raw: escaped and length-capped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator
from pypowerwall_server.untrusted import MAX_LOG_MESSAGE, EscapedLog
from tests.waiting import wait_until

from .conftest import Printed, one_gateway
from .test_demo import free_port

pytestmark = pytest.mark.integration


def test_log_injection_from_a_gateway_body_is_escaped(printed: Printed) -> None:
    printed.addFilter(EscapedLog())  # as configure_logging puts it on the server's handler
    with running_simulator([SiteConfig.for_index(0, seed=9)], admin=False) as sim:
        gw = sim.gateways[0]
        password = SecretStr(gw.config.customer_password)
        settings = one_gateway(gw, password=password, email=gw.config.customer_email)
        with TestClient(create_app(settings)) as client:
            wait_until(lambda: client.get("/health").json()["status"] == "healthy", 20)
            sim.set_fault(gw.id, Fault(kind="garbage"))
            wait_until(lambda: client.get("/health").json()["gateways"][0]["online"] is False, 20)
            wait_until(lambda: any(": down (" in r.getMessage() for r in printed.records), 10)
            error = client.get("/health").json()["gateways"][0]["last_error"]
            listed = client.get("/api/gateways").json()["gateways"][0]["last_error"]
            sim.clear_faults()
    down = [r.getMessage() for r in printed.records if ": down (" in r.getMessage()]
    assert len(down) == 1
    assert "payload" in down[0]  # the library quoted the body: this line had it raw
    for text in (down[0], error, listed):
        assert text.isprintable(), repr(text)  # no NUL, ESC, CR, LF left
        assert len(text) <= MAX_LOG_MESSAGE
    assert "\\x00" in error or "\\x1b" in error or "\\r" in error or "\\n" in error


@pytest.mark.parametrize("debug", [False, True])
def test_log_injection_escaped_in_a_real_server_log(debug: bool) -> None:
    """The same through the real process. With --debug the library's own lines (which quote
    the garbage) reach the log too: configure_logging's filter escapes them."""
    with running_simulator([SiteConfig.for_index(0, seed=9)], admin=False) as sim:
        gw = sim.gateways[0]
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PW_")}
        env |= {"PW_HOST": gw.host, "PW_PASSWORD": gw.config.customer_password}
        env |= {"PW_EMAIL": gw.config.customer_email, "PW_TIMEOUT": "5"}
        command = [sys.executable, "-m", "pypowerwall_server", "--port", str(port)]
        proc = subprocess.Popen(
            [*command, "--bind-address", "127.0.0.1", *(["--debug"] if debug else [])],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/health"

            def gateway_online() -> bool:
                try:
                    return bool(httpx.get(url, timeout=2).json()["gateways"][0]["online"])
                except httpx.HTTPError:
                    return False

            wait_until(gateway_online, 30)
            sim.set_fault(gw.id, Fault(kind="garbage"))
            wait_until(lambda: not gateway_online(), 30)
        finally:
            proc.send_signal(signal.SIGTERM)
            output = proc.communicate(timeout=15)[0].decode("utf-8", errors="replace")
    lines = output.splitlines()
    down = [line for line in lines if ": down (" in line]
    assert len(down) == 1, output[-2000:]
    assert down[0].isprintable() and "\\x" in down[0], down[0]
    assert all(line.isprintable() for line in lines if "payload" in line)
    if debug:
        assert sum("payload" in line for line in lines) > 1  # the library's lines too
