"""Battery units in W over every transport the simulator serves, through the real
pypowerwall: the units of one battery add up to the battery meter (gateway/units.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from pypowerwall_server.gateway.adapter import PypowerwallAdapter
from pypowerwall_server.gateway.readings import FAST_CALLS, readings_from_calls
from pypowerwall_server.gateway.units import status_source, units_disagree_with_meter
from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.unit.simulator.sim_admin_client import admin
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key

from .conftest import frozen_gateway

pytestmark = pytest.mark.integration

TWO_PW2 = replace(SiteConfig.for_index(0), gateway_id="pw2", powerwalls=2)
ONE_PW3 = replace(
    SiteConfig.for_index(1), gateway_id="pw3", powerwalls=1, powerwall_kind="powerwall3"
)
CABIN = replace(  # --demo's cabin: one Powerwall 3 and an expansion pack
    SiteConfig.for_index(2),
    gateway_id="cabin",
    powerwalls=1,
    expansion_packs=1,
    powerwall_kind="powerwall3",
)
UNITS = {"pw2": 2, "pw3": 1, "cabin": 2}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator([TWO_PW2, ONE_PW3, CABIN], app_factory=frozen_gateway) as running:
        key = public_pem(rsa_key("units")).decode()
        for gateway_id in ("pw2", "cabin"):
            admin(running, "POST", f"/gateways/{gateway_id}/v1r/keys", {"public_key": key})
        yield running


def transport(sim: RunningSimulator, gateway_id: str, kind: str, key_file: Path) -> GatewayConfig:
    gw = sim.gateway(gateway_id)
    credentials = {
        "local": {"password": SecretStr(gw.config.customer_password)},
        "tedapi": {"gw_pwd": SecretStr(gw.config.gw_pwd)},
        "hybrid": {
            "password": SecretStr(gw.config.customer_password),
            "gw_pwd": SecretStr(gw.config.gw_pwd),
        },
        "v1r": {
            "password": SecretStr(gw.config.customer_password),
            "rsa_key_path": str(key_file),
        },
    }[kind]
    return GatewayConfig(id=gateway_id, host=gw.host, **credentials)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("gateway_id", "kind", "source"),
    [
        ("pw2", "local", "local_api"),
        ("pw2", "tedapi", "tedapi"),
        ("pw2", "hybrid", "local_api"),
        ("pw2", "v1r", "tedapi"),  # how --demo reads its gateways
        ("pw3", "tedapi", "tedapi"),
        ("pw3", "local", "local_api"),
        ("cabin", "v1r", "tedapi"),  # the expansion pack's power is in its Powerwall 3's
        ("cabin", "local", "local_api"),
    ],
)
def test_battery_unit_power_is_watts_over_every_transport(sim, tmp_path, gateway_id, kind, source):
    key_file = write_private_key(rsa_key("units"), tmp_path / "key.pem")
    adapter = PypowerwallAdapter(transport(sim, gateway_id, kind, key_file), cache_expire=0)
    try:
        attributes = adapter.connect()
        readings = readings_from_calls(adapter.fetch(FAST_CALLS), status_source(attributes))
    finally:
        adapter.close()
    assert status_source(attributes) == source
    assert readings.power_w is not None and len(readings.batteries) == UNITS[gateway_id]
    assert readings.batteries[0].power_w is not None
    assert abs(readings.power_w.battery) > 1000  # the frozen noon site charges
    assert units_disagree_with_meter(readings.batteries, readings.power_w.battery) is None
