"""Issue 15 item 11 (the gateway half): urllib3's "Retrying (Retry(total=…" warnings stay
out of the log; an outage is logged once when it starts and once when it ends, for a
gateway that refuses connections and for one that accepts and never answers."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

from .conftest import Printed, one_gateway

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", ["refused", "hang"])
def test_retry_warnings_stay_out_and_outage_is_logged_once(kind: str, printed: Printed) -> None:
    with running_simulator([SiteConfig.for_index(0, seed=5)], admin=False) as sim:
        gw = sim.gateways[0]
        settings = one_gateway(gw, gw_pwd=SecretStr(gw.config.gw_pwd))
        with TestClient(create_app(settings)) as client:

            def online() -> bool:
                return bool(client.get("/api/gateways").json()["gateways"][0]["online"])

            wait_until(online, 20)
            printed.records.clear()
            sim.set_fault(gw.id, Fault(kind=kind))  # type: ignore[arg-type]
            wait_until(lambda: not online(), 20)
            time.sleep(4.0)  # several failed polls, each with the library's retries
            sim.clear_faults(gw.id)
            wait_until(online, 20)
    assert not [r.getMessage() for r in printed.records if r.name.startswith("urllib3")]
    assert not [r.getMessage() for r in printed.records if r.name.startswith("pypowerwall.")]
    messages = [r.getMessage() for r in printed.records if r.name.startswith("pypowerwall_")]
    assert sum(": down (" in m for m in messages) == 1, messages
    assert sum(m.endswith(": recovered") for m in messages) == 1, messages
