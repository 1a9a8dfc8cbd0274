"""hub.updates(): the current state first, then each change; a slow subscriber is welcomed
again with the newest state instead of being waited for."""

from __future__ import annotations

from dataclasses import replace

from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub


def make_hub() -> Hub:
    states = [GatewayState(gid, gid, "local", 5.0) for gid in ("a", "b")]
    return Hub(states, stale_after_intervals=3)


async def test_current_state_first_then_each_change() -> None:
    hub = make_hub()
    updates = hub.updates()
    assert [await anext(updates), await anext(updates)] == list(hub.states())
    changed = replace(hub.get("b"), polls=1)
    hub.publish(changed)
    assert await anext(updates) is changed
    await updates.aclose()
    assert not hub._subscribers  # closing the iterator unsubscribes


async def test_a_slow_subscriber_skips_to_the_newest_state() -> None:
    hub = make_hub()
    updates = hub.updates(maxsize=2)
    for _ in range(2):
        await anext(updates)
    for polls in range(1, 6):  # more changes than the queue holds, none read
        hub.publish(replace(hub.get("a"), polls=polls))
    newest = [await anext(updates), await anext(updates)]
    assert newest == list(hub.states())  # welcomed again, the backlog dropped
    assert newest[0].polls == 5
    latest = replace(hub.get("b"), polls=9)
    hub.publish(latest)
    assert await anext(updates) is latest  # and changes flow again
    await updates.aclose()


async def test_two_subscribers_each_get_every_change() -> None:
    hub = make_hub()
    first, second = hub.updates(), hub.updates()
    for it in (first, second):
        await anext(it)
        await anext(it)
    changed = replace(hub.get("a"), polls=3)
    hub.publish(changed)
    assert await anext(first) is changed and await anext(second) is changed
    await first.aclose()
    await second.aclose()
