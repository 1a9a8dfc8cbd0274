"""One process runs 200 simulated gateways: it starts in under 10 s and every gateway
answers a real HTTPS request on its own port."""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import time

import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningGateway, running_simulator

pytestmark = pytest.mark.integration

GATEWAYS = 200
START_LIMIT_S = 10.0


def client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the simulator's certificate is self-signed
    return context


def fetch_din(gateway: RunningGateway, context: ssl.SSLContext) -> tuple[int, str]:
    """GET /tedapi/din with the gateway password, as pypowerwall's TEDAPI mode does."""
    token = base64.b64encode(f"Tesla_Energy_Device:{gateway.config.gw_pwd}".encode()).decode()
    connection = http.client.HTTPSConnection("127.0.0.1", gateway.port, context=context, timeout=5)
    try:
        connection.request("GET", "/tedapi/din", headers={"Authorization": f"Basic {token}"})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def test_200_gateways_start_fast_and_each_answers() -> None:
    threads_before = set(threading.enumerate())
    configs = [SiteConfig.for_index(i, seed=1) for i in range(GATEWAYS)]
    started = time.monotonic()
    with running_simulator(configs) as sim:
        startup = time.monotonic() - started
        assert startup < START_LIMIT_S
        assert len({g.port for g in sim.gateways}) == GATEWAYS
        context = client_context()
        answers = [fetch_din(g, context) for g in sim.gateways]
        assert answers == [(200, c.gateway_din) for c in configs]
        assert all(sim.request_counts(g.id) == {"/tedapi/din": 1} for g in sim.gateways)
        new_threads = set(threading.enumerate()) - threads_before
        assert [t.name for t in new_threads] == ["pwsim-loop"]  # no thread per gateway
    assert not set(threading.enumerate()) - threads_before
