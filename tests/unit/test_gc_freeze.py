"""Start-up's objects are frozen once, after every gateway's first poll (gc_freeze.py); the
freeze itself is injected here, as a real one would freeze the test process."""

from __future__ import annotations

import asyncio
import dataclasses
import gc

from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.gc_freeze import collect_and_freeze, freeze_after_start
from pypowerwall_server.hub import Hub


def polled(state: GatewayState, at: float) -> GatewayState:
    return dataclasses.replace(state, last_attempt=at)


def test_freezes_once_every_gateway_has_been_polled() -> None:
    async def scenario() -> list[int]:
        hub = Hub([GatewayState(g, g, "local", 5.0) for g in ("a", "b")], 3)
        frozen: list[int] = []
        waiter = asyncio.ensure_future(
            freeze_after_start(hub, lambda: frozen.append(1), latest_s=5, settle_s=0)
        )
        seen = []
        await asyncio.sleep(0.01)
        seen.append(len(frozen))  # nothing polled yet
        hub.publish(polled(hub.get("a"), 1.0))
        await asyncio.sleep(0.01)
        seen.append(len(frozen))  # one of two (a failed first poll counts: it was tried)
        hub.publish(polled(hub.get("b"), 1.0))
        await asyncio.wait_for(waiter, 1)
        hub.publish(polled(hub.get("a"), 6.0))  # later polls freeze nothing more
        await asyncio.sleep(0.01)
        return [*seen, len(frozen)]

    assert asyncio.run(scenario()) == [0, 0, 1]


def test_a_gateway_never_reached_does_not_hold_the_freeze_forever() -> None:
    async def scenario() -> int:
        hub = Hub([GatewayState("a", "a", "local", 5.0)], 3)
        frozen: list[int] = []
        await asyncio.wait_for(
            freeze_after_start(hub, lambda: frozen.append(1), latest_s=0.05, settle_s=0), 1
        )
        return len(frozen)

    assert asyncio.run(scenario()) == 1


def test_collect_and_freeze_moves_live_objects_to_the_permanent_generation() -> None:
    before = gc.get_freeze_count()
    try:
        collect_and_freeze()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the test process keeps collecting as before
