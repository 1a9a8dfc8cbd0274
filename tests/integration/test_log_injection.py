"""Issue 15 item 10: a gateway's garbage body (NUL, ESC, CR, LF) reaches neither the log nor
/health raw: escaped and length-capped."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator
from pypowerwall_server.untrusted import MAX_LOG_MESSAGE, EscapedLog

from .conftest import Printed, one_gateway, wait_until

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
            time.sleep(1.0)
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
