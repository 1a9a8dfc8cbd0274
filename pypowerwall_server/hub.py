"""The newest state per gateway, and fan-out of changes to subscribers (docs/architecture.md).

Pollers publish; API routes read; each subscriber (WebSocket streams, later MQTT, metrics)
iterates `hub.updates()`: the current state first, then each change, from its own bounded
queue. A subscriber that falls behind is never waited for: its queue is dropped and it is
welcomed again with the current state (the newest state is what counts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable

from pypowerwall_server.errors import UnknownGateway
from pypowerwall_server.freshness import FreshnessRule
from pypowerwall_server.gateway_state import GatewayState

log = logging.getLogger(__name__)


class _Subscription:
    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[GatewayState] = asyncio.Queue(maxsize)
        self.dropped = False


class Hub:
    def __init__(
        self,
        states: Iterable[GatewayState],
        stale_after_intervals: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._states = {state.gateway_id: state for state in states}
        self.gateway_ids: tuple[str, ...] = tuple(self._states)
        self.default_id = "default" if "default" in self._states else self.gateway_ids[0]
        self.freshness = FreshnessRule(stale_after_intervals)
        self.clock = clock
        self.generation = 0  # bumps on every published change; keys memoized aggregates
        self._subscribers: set[_Subscription] = set()
        self._polling: set[str] = set()  # gateways with a poll under way

    def poll_started(self, gateway_id: str) -> None:
        """A poller began a poll (not a change: subscribers are not told)."""
        self._polling.add(gateway_id)

    def awaiting_online(self) -> bool:
        """An online gateway has a poll under way: its Snapshot is due any moment (polls of
        one interval share a clock grid). Offline gateways are not waited for."""
        return any(self._states[gid].online for gid in self._polling)

    def publish(self, state: GatewayState) -> None:
        self._polling.discard(state.gateway_id)
        self._states[state.gateway_id] = state
        self.generation += 1
        for sub in tuple(self._subscribers):
            try:
                sub.queue.put_nowait(state)
            except asyncio.QueueFull:
                sub.dropped = True
                self._subscribers.discard(sub)

    def get(self, gateway_id: str) -> GatewayState:
        try:
            return self._states[gateway_id]
        except KeyError:
            raise UnknownGateway(gateway_id) from None

    def peek(self, gateway_id: str) -> GatewayState | None:
        """Like get() without the exception, for the hot path."""
        return self._states.get(gateway_id)

    def states(self) -> tuple[GatewayState, ...]:
        return tuple(self._states[gid] for gid in self.gateway_ids)

    def is_fresh(self, state: GatewayState, now: float | None = None) -> bool:
        """The freshness rule (freshness.py), now or at `now`."""
        return self.freshness.is_fresh(state, self.clock() if now is None else now)

    async def updates(self, maxsize: int = 16) -> AsyncIterator[GatewayState]:
        """Every gateway's current state, then each published state as it comes. When more
        than `maxsize` changes wait unread, the backlog is dropped and every gateway's
        current state is yielded again, so a slow subscriber skips states, never the newest."""
        sub = self._subscribe(maxsize)
        try:
            for state in self.states():
                yield state
            while True:
                if sub.dropped:
                    sub = self._subscribe(maxsize)
                    log.debug("hub: a subscriber fell behind; welcomed again")
                    for state in self.states():
                        yield state
                yield await sub.queue.get()
        finally:
            self._subscribers.discard(sub)

    def _subscribe(self, maxsize: int) -> _Subscription:
        sub = _Subscription(maxsize)
        self._subscribers.add(sub)
        return sub
