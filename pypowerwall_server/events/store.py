"""Where events and the detector's last state are kept: the EventStore Protocol, the
in-memory store (the default: a restart forgets) and the ring the API and streams read.
The SQLite store (sqlite_store.py) keeps both across restarts."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pypowerwall_server.events.model import Event
from pypowerwall_server.settings.event_kinds import EventKind

RING_SIZE = 500  # events the API and the console can page through


@dataclass(frozen=True)
class Loaded:
    """What a store remembers at start: recent events (oldest first) and, per gateway, the
    detector's saved state."""

    events: tuple[Event, ...] = ()
    states: Mapping[str, dict[str, Any]] = field(default_factory=dict)


class EventStore(Protocol):
    async def load(self, limit: int) -> Loaded:
        """The newest `limit` events and every saved gateway state."""
        ...

    def append(self, event: Event) -> None:
        """Keep one event (never blocks: a store queues its writes)."""
        ...

    def save_state(self, gateway_id: str, state: dict[str, Any]) -> None:
        """Replace one gateway's saved detector state (never blocks)."""
        ...


class MemoryEventStore:
    """Keeps nothing beyond the process: with no history store, the last state lives in
    memory only (the ring holds the events)."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}

    async def load(self, limit: int) -> Loaded:
        return Loaded((), dict(self.states))

    def append(self, event: Event) -> None:
        return None

    def save_state(self, gateway_id: str, state: dict[str, Any]) -> None:
        self.states[gateway_id] = state


class EventRing:
    """The newest events in order, with the next id to give."""

    def __init__(self, size: int = RING_SIZE) -> None:
        self._events: deque[Event] = deque(maxlen=size)
        self.next_id = 1

    def seed(self, events: Iterable[Event]) -> None:
        for event in events:
            self._events.append(event)
            self.next_id = max(self.next_id, event.id + 1)

    def add(self, event: Event) -> None:
        self._events.append(event)
        self.next_id = max(self.next_id, event.id + 1)

    def select(
        self,
        *,
        after_id: int | None = None,
        after_time: float | None = None,
        gateway: str | None = None,
        kinds: frozenset[EventKind] | None = None,
        limit: int = RING_SIZE,
    ) -> list[Event]:
        """Oldest first: events after an id or a time, of a gateway, of some kinds."""
        chosen = [
            event
            for event in self._events
            if (after_id is None or event.id > after_id)
            and (after_time is None or event.at > after_time)
            and (gateway is None or event.gateway == gateway)
            and (kinds is None or event.kind in kinds)
        ]
        return chosen[-limit:] if limit > 0 else []
