"""The event: one thing that happened to a gateway (or the site), decided once from
snapshots or control results, then fanned out (notifications, MQTT, API, WebSocket, console).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pypowerwall_server.settings.event_kinds import EVENT_KINDS, SEVERITY, EventKind, Severity


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before it has an id: what the detector and the control layer decide."""

    kind: EventKind
    at: float  # epoch seconds
    gateway: str | None  # None: the site
    message: str  # one human sentence
    values: Mapping[str, Any] = field(default_factory=dict)
    count: int = 1  # flaps of the condition folded into this event

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]


@dataclass(frozen=True, slots=True)
class Event:
    id: int  # increasing, never reused (a store keeps counting after a restart)
    draft: EventDraft

    @property
    def kind(self) -> EventKind:
        return self.draft.kind

    @property
    def gateway(self) -> str | None:
        return self.draft.gateway

    @property
    def at(self) -> float:
        return self.draft.at

    def as_dict(self) -> dict[str, Any]:
        """The shape of /api/events, /ws/events and MQTT `{prefix}/events`."""
        draft = self.draft
        return {
            "id": self.id,
            "time": iso_time(draft.at),
            "ts": draft.at,
            "gateway": draft.gateway,
            "kind": draft.kind,
            "severity": draft.severity,
            "message": draft.message,
            "count": draft.count,
            "values": dict(draft.values),
        }


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """An event as as_dict() wrote it (a store reading it back)."""
    kind = data["kind"]
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    draft = EventDraft(
        kind=kind,
        at=float(data["ts"]),
        gateway=data.get("gateway"),
        message=str(data["message"]),
        values=dict(data.get("values") or {}),
        count=int(data.get("count", 1)),
    )
    return Event(int(data["id"]), draft)
