"""The events of one app: the detector fed by the hub, control results from the audit
trail, the ring the API reads, the store, listeners (WebSocket, MQTT) and notifications.
`run` is a lifespan task; nothing here waits for a listener or a notification."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypowerwall_server.control.audit import AuditEntry
from pypowerwall_server.events.detector import GatewayWatch
from pypowerwall_server.events.model import Event, EventDraft
from pypowerwall_server.events.notify import Notifier
from pypowerwall_server.events.sentences import sentence
from pypowerwall_server.events.store import RING_SIZE, EventRing, EventStore, MemoryEventStore
from pypowerwall_server.hub import Hub
from pypowerwall_server.settings.event_kinds import EventKind

log = logging.getLogger(__name__)
HUB_QUEUE_SIZE = 64
LISTENER_QUEUE_SIZE = 256


@dataclass(frozen=True)
class EventOptions:
    soe_low: float = 20.0  # app scale %
    hold_down: float = 60.0  # s


class Listener:
    """One consumer's bounded queue; `overflowed` once it fell behind (it is then dropped)."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.overflowed = asyncio.Event()


class EventService:
    def __init__(
        self,
        hub: Hub,
        options: EventOptions,
        store: EventStore | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.hub = hub
        self.options = options
        self.store: EventStore = store or MemoryEventStore()
        self.notifier = notifier
        self.ring = EventRing()
        self.ready = asyncio.Event()  # the store's memory is loaded
        self.stopping = asyncio.Event()  # the lifespan is ending: listeners leave
        self._listeners: set[Listener] = set()
        self._watches = {
            state.gateway_id: GatewayWatch(
                state.gateway_id, state.name, options.soe_low, options.hold_down
            )
            for state in hub.states()
        }

    async def run(self) -> None:
        await self._load()
        async with asyncio.TaskGroup() as group:
            if self.notifier is not None:
                group.create_task(self.notifier.run(), name="events-notify")
            group.create_task(self._follow_hub(), name="events-detect")

    async def _load(self) -> None:
        if self.ready.is_set():
            return
        try:
            loaded = await self.store.load(RING_SIZE)
        except Exception as exc:  # a broken store costs the memory, never the events
            log.warning("events: could not load the event store (%s); starting afresh", exc)
        else:
            self.ring.seed(loaded.events)
            for gateway_id, saved in loaded.states.items():
                watch = self._watches.get(gateway_id)
                if watch is not None:
                    watch.restore(saved)
        self.ready.set()

    async def _follow_hub(self) -> None:
        async for state in self.hub.updates(HUB_QUEUE_SIZE):
            watch = self._watches.get(state.gateway_id)
            if watch is None:
                continue
            for draft in watch.observe(state, self.hub.clock()):
                self.emit(draft)
            if watch.changed:
                self.store.save_state(state.gateway_id, watch.saved())

    def control_result(self, entry: AuditEntry) -> None:
        """An audited write: applied or failed (refusals before a write are not events)."""
        kind: EventKind
        if entry.result.startswith("applied"):
            kind = "control_applied"
        elif entry.result.startswith("failed"):
            kind = "control_failed"
        else:
            return
        values: dict[str, Any] = {
            "what": entry.what,
            "old": entry.old,
            "new": entry.new,
            "result": entry.result,
        }
        watch = self._watches.get(entry.gateway_id)
        name = watch.name if watch is not None else entry.gateway_id
        message = sentence(kind, name, values)
        self.emit(EventDraft(kind, entry.at, entry.gateway_id or None, message, values))

    def emit(self, draft: EventDraft) -> Event:
        event = Event(self.ring.next_id, draft)
        self.ring.add(event)
        log.info("event %d %s: %s", event.id, event.kind, draft.message)
        self.store.append(event)
        if self.notifier is not None:
            self.notifier.offer(event)
        for listener in tuple(self._listeners):
            try:
                listener.queue.put_nowait(event)
            except asyncio.QueueFull:
                listener.overflowed.set()
                self._listeners.discard(listener)
        return event

    @contextlib.contextmanager
    def listen(self, maxsize: int = LISTENER_QUEUE_SIZE) -> Iterator[Listener]:
        """Every event from now on, in a bounded queue (overflowing drops the listener)."""
        listener = Listener(maxsize)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    def health(self) -> dict[str, Any]:
        """/health's `events` field: counts and notification state, never a URL."""
        notifications = None if self.notifier is None else self.notifier.as_dict()
        return {
            "last_id": self.ring.next_id - 1,
            "notifications": notifications,
            "notifications_failing": bool(self.notifier and self.notifier.failing),
        }
