"""The transport chain (gateway/transports.py) with hand-written adapters at its boundary:
failover after N failures, recovery probes with growing intervals, degraded data, logs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from pydantic import SecretStr

from pypowerwall_server.errors import GatewayUnreachable
from pypowerwall_server.gateway.readings import AGGREGATES_CALL, SYSTEM_STATUS_CALL
from pypowerwall_server.gateway.transports import (
    MAX_PROBE_S,
    TransportChain,
    build_chain,
    transport_config,
    transport_names,
)
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig

CALLS = (AGGREGATES_CALL, SYSTEM_STATUS_CALL, "vitals()")


def meters(battery: bool = True, grid: bool = True) -> dict[str, Any]:
    found = {"load": {"instant_power": 900.0}, "solar": {"instant_power": 3000.0}}
    if battery:
        found["battery"] = {"instant_power": -1000.0}
    if grid:
        found["site"] = {"instant_power": -1100.0}
    return found


def answer(capacity: float = 27000.0, **kwargs: bool) -> dict[str, Any]:
    return {
        AGGREGATES_CALL: meters(**kwargs),
        SYSTEM_STATUS_CALL: {"nominal_full_pack_energy": capacity},
        "vitals()": {"STSTSM--1": {}},
    }


class Link:
    """One transport: answers `answer` or raises while `down`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.down = False
        self.answer: dict[str, Any] = answer()
        self.fetches = 0

    def connect(self) -> GatewayAttributes:
        return self.attributes()

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise GatewayUnreachable(f"{self.name} refused the connection")
        return dict(self.answer)

    def run(self, operation: Callable[[Any], Any]) -> Any:
        return operation(self.name)

    def close(self) -> None:
        pass

    def attributes(self) -> GatewayAttributes:
        return GatewayAttributes("tedapi", True, False, False, False, "full", None, "0")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def chain_of(
    *names: str, after: int = 3, probe: float = 60.0
) -> tuple[TransportChain, list[Link], Clock]:
    links, clock = [Link(name) for name in names], Clock()
    chain = TransportChain("home", [(link.name, link, 5.0) for link in links], after, probe, clock)
    return chain, links, clock


def poll(chain: TransportChain) -> dict[str, Any] | None:
    try:
        return chain.fetch(CALLS)
    except GatewayUnreachable:
        return None


def switches(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "transport " in r.getMessage()]


def test_failover_after_n_failures_then_the_next_serves_in_the_same_poll(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chain, (tedapi, fleet), _ = chain_of("tedapi", "fleetapi", after=3)
    assert poll(chain) is not None and chain.status().active == "tedapi"
    tedapi.down = True
    assert poll(chain) is None and poll(chain) is None  # failures 1 and 2: still tedapi
    assert chain.status().active == "tedapi" and fleet.fetches == 0
    with caplog.at_level(logging.INFO):
        assert poll(chain) == fleet.answer  # the third failure: fleetapi answers at once
    status = chain.status()
    assert (status.active, status.failovers, status.on_fallback) == ("fleetapi", 1, True)
    assert chain.attributes().transport == "fleetapi"
    failing = status.transports[0]
    assert (failing.state, failing.consecutive_failures) == ("failing", 3)
    assert failing.failing_since == 1000.0 and failing.next_probe == 1060.0
    assert switches(caplog) == [
        "gateway home: transport tedapi -> fleetapi (failover after 3 failures: "
        "tedapi refused the connection)"
    ]
    assert status.problems() == ["on fallback transport fleetapi (preferred: tedapi)"]


def test_recovery_probes_grow_and_the_preferred_takes_back_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chain, (tedapi, fleet), clock = chain_of("tedapi", "fleetapi", after=1, probe=60.0)
    tedapi.down = True
    poll(chain)
    assert chain.status().active == "fleetapi"
    tries = tedapi.fetches
    clock.now += 59
    poll(chain)
    assert tedapi.fetches == tries  # not yet due
    waits = []
    for _ in range(8):
        due = chain.status().transports[0].next_probe
        assert due is not None
        waits.append(due - clock.now)
        clock.now = due
        assert poll(chain) == fleet.answer  # the probe failed, fleetapi still serves
    assert waits[0] == 1.0 and waits[1:] == [120.0, 240.0, 480.0, 960.0, 1800.0, 1800.0, 1800.0]
    assert max(waits) == MAX_PROBE_S
    tedapi.down = False
    clock.now = chain.status().transports[0].next_probe or 0.0
    with caplog.at_level(logging.INFO):
        assert poll(chain) == tedapi.answer
    status = chain.status()
    assert (status.active, status.recoveries, status.transports[0].state) == ("tedapi", 1, "ok")
    assert status.transports[0].next_probe is None and status.problems() == []
    assert switches(caplog) == [  # one line per switch, none per failed probe
        "gateway home: transport tedapi -> fleetapi (failover after 1 failures: "
        "tedapi refused the connection)",
        "gateway home: transport fleetapi -> tedapi (recovered: tedapi answered a probe well)",
    ]


def test_solar_only_answer_is_degraded_served_flagged_and_fails_over() -> None:
    chain, (tedapi, fleet), _ = chain_of("tedapi", "fleetapi", after=2)
    tedapi.answer = answer(battery=False, grid=False)
    served = poll(chain)
    assert served is not None and AGGREGATES_CALL in served  # served, flagged
    status = chain.status()
    assert status.degraded is not None and "solar only" in status.degraded
    assert status.problems()[0].startswith("degraded data from tedapi: battery and grid meter")
    assert poll(chain) == fleet.answer  # second degraded answer: fleetapi takes over
    assert chain.status().active == "fleetapi" and chain.status().degraded is None


def test_solar_only_answer_on_a_site_without_battery_is_not_degraded() -> None:
    chain, (tedapi, _), _ = chain_of("tedapi", "fleetapi", after=1)
    tedapi.answer = answer(capacity=0.0, battery=False, grid=False)
    for _ in range(3):
        assert poll(chain) is not None
    assert chain.status().active == "tedapi" and chain.status().degraded is None


def test_vitals_gone_on_a_transport_that_had_them_is_degraded() -> None:
    chain, (tedapi,), _ = chain_of("tedapi", after=1)
    poll(chain)
    tedapi.answer = {**answer(), "vitals()": None}
    assert poll(chain) is not None  # the only transport: served, flagged
    assert chain.status().degraded == "vitals gone (they were there before: a firmware change?)"


def test_last_transport_failing_raises_and_stays() -> None:
    chain, links, _ = chain_of("tedapi", "fleetapi", after=1)
    for link in links:
        link.down = True
    assert poll(chain) is None
    assert chain.status().active == "fleetapi"
    assert poll(chain) is None and chain.status().active == "fleetapi"


def test_writes_go_to_the_active_transport() -> None:
    chain, (tedapi, _), _ = chain_of("tedapi", "fleetapi", after=1)
    assert chain.run(lambda connection: connection) == "tedapi"
    tedapi.down = True
    poll(chain)
    assert chain.run(lambda connection: connection) == "fleetapi"


def test_single_mode_configuration_is_a_chain_of_its_own_config() -> None:
    config = GatewayConfig(id="home", name="home", gw_pwd=SecretStr("GwPassword1"))
    assert transport_names(config) == ("tedapi",)
    assert transport_config(config, "tedapi") is config
    made: list[GatewayConfig] = []

    def make(own: GatewayConfig) -> Link:
        made.append(own)
        return Link("tedapi")

    chain = build_chain(config, make)
    assert made == [config] and chain.status().active == "tedapi"


def test_each_transport_gets_only_its_own_credentials() -> None:
    config = GatewayConfig(
        id="home",
        name="home",
        host="10.0.0.5",
        gw_pwd=SecretStr("GwPassword1"),
        password=SecretStr("customer"),
        email="me@example.com",
        transports=("local", "tedapi", "cloud"),
        poll_interval=5.0,
        remote_interval=60.0,
    )
    local, tedapi, cloud = (transport_config(config, n) for n in config.transports)
    assert (local.mode, local.host, local.transports) == ("local", "10.0.0.5", ())
    assert (tedapi.mode, tedapi.host, tedapi.password) == ("tedapi", "192.168.91.1", None)
    assert (cloud.mode, cloud.host, cloud.gw_pwd, cloud.password) == ("cloud", None, None, None)
    assert (cloud.email, cloud.poll_interval) == ("me@example.com", 60.0)  # Tesla's pace


def test_battery_known_from_its_power_when_system_status_has_no_capacity() -> None:
    chain, (tedapi, _), _ = chain_of("tedapi", "fleetapi", after=5)
    tedapi.answer = answer(capacity=0.0)  # no capacity reported, but battery power flows
    poll(chain)
    assert chain.status().degraded is None
    tedapi.answer = answer(capacity=0.0, battery=False, grid=False)
    poll(chain)
    assert chain.status().degraded is not None and "solar only" in chain.status().degraded


class HangingLink(Link):
    """A transport whose calls hang (until released) while `hung`."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.hung = False
        self.release = threading.Event()

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        if self.hung:
            self.release.wait(10)
        return super().fetch(calls)


def fresh_chain(
    *names: str, after: int, deadline: float = 1.0
) -> tuple[TransportChain, list[HangingLink], Clock]:
    """Each transport on its own thread, handing over before the data is 3 intervals (15 s)
    old."""
    links, clock = [HangingLink(name) for name in names], Clock()
    pairs = [(link.name, link, 5.0) for link in links]
    chain = TransportChain("home", pairs, after, 60.0, clock, call_deadline=deadline)
    chain.keep_fresh(3.0)
    return chain, links, clock


def test_hands_over_before_the_data_turns_stale_even_before_n_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chain, (tedapi, fleet), clock = fresh_chain("tedapi", "fleetapi", after=3)
    try:
        assert poll(chain) == tedapi.answer  # served at 1000: stale after 1015
        tedapi.down = True
        clock.now = 1005.0
        assert poll(chain) is None  # a retry at 1010 still leaves time to hand over
        clock.now = 1010.0
        with caplog.at_level(logging.INFO):
            assert poll(chain) == fleet.answer  # the third failure would come too late
        assert chain.status().active == "fleetapi"
        assert switches(caplog) == [
            "gateway home: transport tedapi -> fleetapi (failover after 2 failures, before "
            "the data turns stale: tedapi refused the connection)"
        ]
    finally:
        chain.close()


def test_a_hung_poll_is_cut_off_in_time_for_the_fallback_to_serve() -> None:
    chain, (tedapi, fleet), clock = fresh_chain("tedapi", "fleetapi", after=3)
    try:
        assert poll(chain) == tedapi.answer  # served at 1000: hand over by 1014.5
        tedapi.hung = True
        clock.now = 1014.0
        assert poll(chain) == fleet.answer  # tedapi had 0.5 s, not the 1 s call deadline
        failing = chain.status().transports[0]
        assert failing.last_error == "tedapi did not answer within 0.5 s"
        assert failing.consecutive_failures == 1
    finally:
        tedapi.release.set()
        chain.close()


def test_without_data_yet_a_transport_has_its_whole_call_deadline() -> None:
    chain, (tedapi, fleet), _ = fresh_chain("tedapi", "fleetapi", after=1, deadline=0.2)
    tedapi.hung = True
    try:
        assert poll(chain) == fleet.answer
        assert chain.status().transports[0].last_error == "tedapi did not answer within 0.2 s"
    finally:
        tedapi.release.set()
        chain.close()


def test_active_since_is_the_moment_of_the_last_switch() -> None:
    chain, (tedapi, _), clock = chain_of("tedapi", "fleetapi", after=1, probe=10.0)
    poll(chain)
    assert chain.status().active_since is None  # the preferred one, since the start
    tedapi.down = True
    clock.now = 1005.0
    poll(chain)
    assert chain.status().as_dict()["active_since"] == 1005.0
    tedapi.down = False
    clock.now = 1015.0
    poll(chain)  # the probe answers well: tedapi again
    assert (chain.status().active, chain.status().active_since) == ("tedapi", 1015.0)
