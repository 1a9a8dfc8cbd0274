"""The poller, the supervisor and the writer find a connection's ordered-transport
capabilities through the OrderedTransports Protocol, not through the concrete chain: any
connection that has them (here a hand-written fake) gets the same treatment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from pypowerwall_server.gateway.poller import Poller, PollPlan
from pypowerwall_server.gateway.protocol import OrderedTransports
from pypowerwall_server.gateway.transports import build_chain
from pypowerwall_server.gateway.writer import ChainLinkWriter, build_writer
from pypowerwall_server.gateway_state import GatewayState, TransportState, TransportStatus
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig
from tests.unit.test_poller import ATTRS, FakeAdapter
from tests.unit.test_transports import Link

T = TypeVar("T")
STATUS = TransportStatus(
    "cloud",
    (
        TransportState("tedapi", "failing", 1000.0, 3, "timed out", 1060.0),
        TransportState("cloud", "ok", None, 0, None, None),
    ),
    failovers=1,
    recoveries=0,
    degraded=None,
)


class FakeOrderedConnection(FakeAdapter):
    """Not a TransportChain: a fake with the capabilities of one."""

    def __init__(self) -> None:
        super().__init__()
        self.stale_after: float | None = None
        self.ran_on: list[str] = []

    @property
    def interval(self) -> float:
        return 60.0

    def attributes(self) -> GatewayAttributes:
        return GatewayAttributes("cloud", False, False, False, False, "off", None, "0.22.2")

    def status(self) -> TransportStatus:
        return STATUS

    def keep_fresh(self, stale_after_intervals: float) -> None:
        self.stale_after = stale_after_intervals

    def run_on(self, name: str, operation: Callable[[Any], T]) -> T:
        self.ran_on.append(name)
        return operation(name)

    def run(self, operation: Callable[[Any], T]) -> T:
        return operation("active")


def test_the_chain_has_the_capabilities_and_a_single_connection_has_not() -> None:
    config = GatewayConfig(id="home", gw_pwd=SecretStr("GwPw1"), transports=("tedapi",))
    chain = build_chain(config, lambda own: Link(own.read_transports[0]))
    assert isinstance(chain, OrderedTransports)
    assert isinstance(FakeOrderedConnection(), OrderedTransports)
    assert not isinstance(FakeAdapter(), OrderedTransports)
    assert not isinstance(Link("tedapi"), OrderedTransports)


def test_a_write_on_a_named_transport_goes_through_any_connection_with_the_capability(
    tmp_path: Path,
) -> None:
    (tmp_path / ".pypowerwall.fleetapi").write_text("{}")
    config = GatewayConfig(
        id="home",
        gw_pwd=SecretStr("GwPw1"),
        authpath=str(tmp_path),
        transports=("tedapi", "fleetapi"),
    )
    connection = FakeOrderedConnection()
    writer = build_writer(config, connection, lambda _: FakeAdapter())  # type: ignore[arg-type,return-value]
    assert isinstance(writer, ChainLinkWriter) and writer.name == "fleetapi"
    assert writer.run(lambda on: on) == "fleetapi"
    assert connection.ran_on == ["fleetapi"]


async def test_the_poller_publishes_the_status_and_pace_of_any_connection_with_them() -> None:
    published: list[GatewayState] = []
    polled = asyncio.Event()

    def publish(state: GatewayState) -> None:
        published.append(state)
        if state.snapshot is not None:
            polled.set()

    connection = FakeOrderedConnection()
    plan = PollPlan(fast_calls=("fast()",), slow_calls=())
    with ThreadPoolExecutor(1) as executor:
        poller = Poller(
            GatewayState("gw", "gw", "local", 5.0), connection, executor, plan, publish, 1.0
        )
        task = asyncio.create_task(poller.run())
        await asyncio.wait_for(polled.wait(), timeout=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    state = published[-1]
    assert state.transport == STATUS and state.interval == 60.0
    assert state.snapshot is not None and state.snapshot.attributes.mode == "cloud" != ATTRS.mode
