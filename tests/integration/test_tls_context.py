"""Unverified gateway connections use the shared context (no CA store per connection)
against the simulator's self-signed HTTPS, with REQUESTS_CA_BUNDLE set as in CI."""

from __future__ import annotations

import pytest
import requests

from pypowerwall_server.gateway import tls
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import running_simulator

pytestmark = pytest.mark.integration  # starts a server or the simulator


def test_gateway_connections_use_the_shared_unverified_context(monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    tls.honor_session_verify()
    with running_simulator([SiteConfig.for_index(0)], admin=False) as sim:
        url = f"https://{sim.gateways[0].host}/api/status"
        session = requests.Session()
        session.verify = False
        assert session.get(url, timeout=10).status_code == 200
        keys = list(session.get_adapter(url).poolmanager.pools.keys())
        assert [k.key_ssl_context for k in keys] == [tls.unverified_shared()]
        session.close()
