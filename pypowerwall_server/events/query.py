"""Which events a client asks for (GET /api/events, /ws/events): `since` an id or an ISO
time, a gateway, kinds. Pure; bad input raises BadEventQuery (a 400 with the reason)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pypowerwall_server.errors import ServerError
from pypowerwall_server.events.model import Event
from pypowerwall_server.events.store import EventRing
from pypowerwall_server.settings.event_kinds import EVENT_KINDS, EventKind
from pypowerwall_server.untrusted import printable

MAX_LIMIT = 500


class BadEventQuery(ServerError):
    status_code = 400


@dataclass(frozen=True)
class EventQuery:
    after_id: int | None = None
    after_time: float | None = None
    gateway: str | None = None
    kinds: frozenset[EventKind] | None = None
    limit: int = MAX_LIMIT

    def select(self, ring: EventRing) -> list[Event]:
        return ring.select(
            after_id=self.after_id,
            after_time=self.after_time,
            gateway=self.gateway,
            kinds=self.kinds,
            limit=self.limit,
        )

    def matches(self, event: Event) -> bool:
        """For live events (the id and time only go up)."""
        return (self.gateway is None or event.gateway == self.gateway) and (
            self.kinds is None or event.kind in self.kinds
        )


def parse_query(
    since: str | None,
    gateway: str | None,
    kinds: Iterable[str],
    gateway_ids: tuple[str, ...],
    limit: int = MAX_LIMIT,
) -> EventQuery:
    after_id, after_time = _since(since)
    if gateway is not None and gateway not in gateway_ids:
        raise BadEventQuery(f"unknown gateway id '{printable(gateway, 100)}'")
    texts = list(kinds)
    if any(not text.strip() for text in texts):
        raise BadEventQuery("kind must not be empty")
    names = [name.strip() for text in texts for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in EVENT_KINDS]
    if unknown:
        known = ", ".join(EVENT_KINDS)
        raise BadEventQuery(f"unknown kind '{printable(unknown[0], 60)}'; known: {known}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadEventQuery(f"limit must be from 1 to {MAX_LIMIT}")
    chosen = frozenset(k for k in EVENT_KINDS if k in names) if names else None
    return EventQuery(after_id, after_time, gateway, chosen, limit)


def _since(since: str | None) -> tuple[int | None, float | None]:
    if since is None or since == "":
        return None, None
    if since.isdigit():
        return int(since), None
    try:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise BadEventQuery(
            f"since must be an event id or an ISO time, got '{printable(since, 60)}'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None, moment.timestamp()
