"""A Powerwall 3 with an expansion pack (--demo's cabin) through the real pypowerwall over
v1r and the local API: /pod and /freq number the expansion PW2, as the proxy does, and
PWn_p_out keeps the library's unit per transport, as the proxy did (docs/units.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import admin
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key

from .conftest import frozen_gateway, healthy_client

pytestmark = pytest.mark.integration

CABIN = replace(
    SiteConfig.for_index(2),
    gateway_id="cabin",
    powerwalls=1,
    expansion_packs=1,
    powerwall_kind="powerwall3",
)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator([CABIN], app_factory=frozen_gateway) as running:
        key = public_pem(rsa_key("cabin")).decode()
        admin(running, "POST", "/gateways/cabin/v1r/keys", {"public_key": key})
        yield running


def cabin(sim: RunningSimulator, key_file: Path | None) -> GatewayConfig:
    gw = sim.gateway("cabin")
    key = {"rsa_key_path": str(key_file)} if key_file is not None else {}
    return GatewayConfig(
        id="cabin",
        host=gw.host,
        password=SecretStr(gw.config.customer_password),
        poll_interval=0.5,
        **key,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("transport", ["v1r", "local"])
def test_expansion_pack_is_pw2_in_pod_and_freq(sim, tmp_path, transport):
    key_file = write_private_key(rsa_key("cabin"), tmp_path / "key.pem")
    config = cabin(sim, key_file if transport == "v1r" else None)
    with healthy_client((config,)) as client:
        pod, freq = client.get("/pod").json(), client.get("/freq").json()
        battery_w = client.get("/aggregates").json()["battery"]["instant_power"]
    assert pod["PW2_POD_nom_energy_remaining"] > 0
    assert pod["PW2_POD_nom_full_pack_energy"] > pod["PW2_POD_nom_energy_remaining"]
    assert {"PW2_PINV_Fout", "PW2_f_out", "PW2_p_out"} <= freq.keys()
    # The proxy serves the library's p_out as it is: kW over TEDAPI/v1r, W over the local API.
    scale = 1000 if transport == "v1r" else 1
    units_w = [freq[key] * scale for key in ("PW1_p_out", "PW2_p_out") if freq[key] is not None]
    assert sum(units_w) == pytest.approx(battery_w, abs=250)
