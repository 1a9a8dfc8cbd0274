"""The event: one thing that happened to a gateway (or the site), decided once from
snapshots or control results, then fanned out (notifications, MQTT, API, WebSocket, console).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

EventKind = Literal[
    "grid_outage",
    "grid_restored",
    "gateway_offline",
    "gateway_online",
    "auth_failed",
    "soe_low",
    "soe_recovered",
    "battery_full",
    "alert_raised",
    "alert_cleared",
    "firmware_changed",
    "transport_failover",
    "transport_recovered",
    "control_applied",
    "control_failed",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
Severity = Literal["info", "warning", "critical"]

SEVERITY: dict[EventKind, Severity] = {
    "grid_outage": "critical",
    "grid_restored": "info",
    "gateway_offline": "warning",
    "gateway_online": "info",
    "auth_failed": "critical",
    "soe_low": "warning",
    "soe_recovered": "info",
    "battery_full": "info",
    "alert_raised": "warning",
    "alert_cleared": "info",
    "firmware_changed": "info",
    "transport_failover": "warning",
    "transport_recovered": "info",
    "control_applied": "info",
    "control_failed": "warning",
}

# PW_NOTIFY_EVENTS' groups: a name here stands for these kinds (any kind may be named too).
GROUPS: dict[str, tuple[EventKind, ...]] = {
    "outages": ("grid_outage", "grid_restored"),
    "offline": ("gateway_offline", "gateway_online"),
    "auth": ("auth_failed",),
    "soe_low": ("soe_low",),
    "alerts": ("alert_raised", "alert_cleared"),
    "control_failures": ("control_failed",),
    "battery": ("soe_low", "soe_recovered", "battery_full"),
    "firmware": ("firmware_changed",),
    "transport": ("transport_failover", "transport_recovered"),
    "control": ("control_applied", "control_failed"),
    "all": EVENT_KINDS,
}
DEFAULT_NOTIFY = ("outages", "offline", "auth", "soe_low", "alerts", "control_failures")


def kinds_of(names: tuple[str, ...]) -> frozenset[EventKind]:
    """The kinds that group names and kind names stand for (unknown names: ValueError)."""
    kinds: set[EventKind] = set()
    for name in names:
        if name in GROUPS:
            kinds.update(GROUPS[name])
        elif name in EVENT_KINDS:
            kinds.add(name)
        else:
            raise ValueError(f"unknown event kind or group {name!r}")
    return frozenset(kinds)


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
