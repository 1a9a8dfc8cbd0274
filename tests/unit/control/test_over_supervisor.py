"""A control write end to end over the real GatewaySupervisor (fake adapter at our boundary):
the write runs on the gateway's worker, the slow tier is refreshed at once and the new
reserve is read back from the Snapshot's Readings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import SecretStr

from pypowerwall_server.control.commands import SetReserve
from pypowerwall_server.control.current import control_state
from pypowerwall_server.control.limits import WriteTransport
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.writes import (
    ControlTarget,
    WritePlan,
    WriteStatus,
    execute_write,
    plan_write,
)
from pypowerwall_server.gateway.supervisor import GatewaySupervisor
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig

T = TypeVar("T")
ATTRS = GatewayAttributes("tedapi", True, False, False, False, "full", None, "0.22.2")


class Site:
    """The gateway: polls read its reserve, the library's set_reserve changes it."""

    def __init__(self) -> None:
        self.reserve = 20.0
        self.writes: list[float] = []

    def connect(self) -> GatewayAttributes:
        return ATTRS

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        values = {"get_reserve()": self.reserve, "get_mode()": "self_consumption"}
        return {call: values.get(call, {}) for call in calls}

    def run(self, operation: Callable[[Any], T]) -> T:
        return operation(self)  # self stands in for pypowerwall.Powerwall

    def set_reserve(self, level: float) -> object:
        self.writes.append(level)
        self.reserve = level
        return {"set_backup_reserve_percent": {"result": "Updated"}}

    def close(self) -> None:
        pass


class ControlGateways:
    """The supervisor as control sees it (writes.ControlSupervisor)."""

    def __init__(self, supervisor: GatewaySupervisor) -> None:
        self.supervisor = supervisor
        self.submit = supervisor.submit

    async def refresh_slow_tier(self, gateway_id: str) -> None:
        await self.supervisor.refresh_slow_tier(gateway_id)

    def control_state(self, gateway_id: str) -> ControlState:
        snapshot = self.supervisor.state(gateway_id).snapshot
        return ControlState() if snapshot is None else control_state(snapshot.readings)


async def test_a_reserve_write_is_applied_and_read_back() -> None:
    site = Site()
    config = GatewayConfig(
        id="home", host="127.0.0.1:9", gw_pwd=SecretStr("pw"), poll_interval=30.0
    )
    hub = Hub([GatewayState("home", "home", "tedapi", 30.0)], stale_after_intervals=3)
    supervisor = GatewaySupervisor((config,), hub, lambda _: site)
    gateways = ControlGateways(supervisor)
    async with supervisor.running():
        async with asyncio.timeout(5):
            while hub.get("home").snapshot is None:
                await asyncio.sleep(0.01)
        before = gateways.control_state("home")
        assert before.reserve_percent == 20.0
        target = ControlTarget("home", "tedapi", WriteTransport.V1R)
        plan = plan_write(target, SetReserve(35.0), before)
        assert isinstance(plan, WritePlan)
        outcome = await execute_write(gateways, plan, timeout=5, refresh_timeout=5)
    assert site.writes == [35.0]
    assert [part.status for part in outcome.parts] == [WriteStatus.APPLIED]
    assert gateways.control_state("home").reserve_percent == 35.0
    assert hub.get("home").polls == 2  # the refresh polled at once (the interval is 30 s)
