"""Every pypowerwall attribute listed in pypowerwall_server/internals/pypowerwall_internals.py
is there, and behaves as the server relies on, on the real library connected over HTTPS to
the simulator: an upgrade that moves one fails here, by name."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pypowerwall_server.internals import pypowerwall_internals as pi
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator

from .conftest import direct_powerwall, frozen_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator([SiteConfig.for_index(0)], admin=False, app_factory=frozen_gateway) as s:
        yield s


@pytest.fixture(scope="module")
def tedapi_mode(sim: RunningSimulator) -> Any:
    gateway = sim.gateways[0]
    return direct_powerwall(gateway.host, gw_pwd=gateway.config.gw_pwd, password="")


@pytest.fixture(scope="module")
def local_mode(sim: RunningSimulator) -> Any:
    gateway = sim.gateways[0]
    config = gateway.config
    return direct_powerwall(
        gateway.host, password=config.customer_password, email=config.customer_email
    )


def missing(obj: Any, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not hasattr(obj, name)]


@pytest.mark.parametrize("mode", ["tedapi_mode", "local_mode"])
def test_powerwall_and_its_client(mode: str, request: pytest.FixtureRequest) -> None:
    pw = request.getfixturevalue(mode)
    client = getattr(pw, pi.POWERWALL_CLIENT)
    assert client is not None, "connected, yet no client"
    assert callable(getattr(pw, pi.POWERWALL_CONNECT))
    assert missing(pw, pi.POWERWALL_ATTRIBUTES) == []
    assert callable(getattr(client, pi.CLIENT_CLOSE_SESSION))
    assert missing(client, (pi.CLIENT_TEDAPI, pi.CACHE)) == []
    assert isinstance(getattr(client, pi.CACHE), dict)
    assert missing(pw, (pi.COOLDOWN,)) == []
    if mode == "local_mode":  # the local client pauses itself; in TEDAPI mode its TEDAPI does
        assert missing(client, (pi.COOLDOWN,)) == []


def test_tedapi_object_state(tedapi_mode: Any) -> None:
    tedapi = getattr(getattr(tedapi_mode, pi.POWERWALL_CLIENT), pi.CLIENT_TEDAPI)
    assert tedapi is not None and tedapi_mode.tedapi is tedapi
    assert tedapi_mode.tedapi_mode == "full"
    assert isinstance(getattr(tedapi, pi.TEDAPI_PW3), bool)
    assert isinstance(getattr(tedapi, pi.CACHE), dict)
    assert isinstance(getattr(tedapi, pi.TEDAPI_CACHE_TIMES), dict)
    assert isinstance(getattr(tedapi, pi.TEDAPI_CONFIG_EXPIRE), int | float)
    assert isinstance(getattr(tedapi, pi.TEDAPI_NATIVE_FAIL_UNTIL), int | float)
    assert missing(tedapi, (pi.COOLDOWN,)) == []


def test_tedapi_cache_keys_and_seeding(tedapi_mode: Any, sim: RunningSimulator) -> None:
    """gateway/tedapi_economy.py: the controller answer, seeded under the status key, serves
    get_status() without a request; the native aggregates gate serves the cached copy."""
    tedapi = getattr(getattr(tedapi_mode, pi.POWERWALL_CLIENT), pi.CLIENT_TEDAPI)
    cache, times = getattr(tedapi, pi.CACHE), getattr(tedapi, pi.TEDAPI_CACHE_TIMES)
    controller = tedapi.get_device_controller(force=True)
    assert isinstance(controller, dict) and "control" in controller
    assert pi.CONTROLLER_KEY in times
    aggregates = tedapi.get_native_meters_aggregates(force=True)
    assert isinstance(aggregates, dict) and cache.get(pi.NATIVE_AGGREGATES_KEY) == aggregates

    gateway_id = sim.gateways[0].id
    sim.reset_requests(gateway_id)
    cache[pi.STATUS_KEY] = controller
    times[pi.STATUS_KEY] = time.time()
    assert tedapi.get_status() is controller
    times[pi.NATIVE_AGGREGATES_KEY] = time.time() - 3600  # expired...
    setattr(tedapi, pi.TEDAPI_NATIVE_FAIL_UNTIL, time.time() + 60)  # ...but gated
    assert tedapi.get_native_meters_aggregates() is aggregates
    assert sim.total_requests(gateway_id) == 0
