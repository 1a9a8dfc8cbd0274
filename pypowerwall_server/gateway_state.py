"""What the API knows about one gateway (GatewayState), with what its transport chain says
about itself (TransportStatus): immutable, replaced whole after each poll or change, read by
the hub, the read model, the streams, MQTT and /metrics on the event loop. They sit below
gateway/ and hub.py, which both use them (docs/architecture.md, package order)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pypowerwall_server.models import Snapshot

LinkState = Literal["ok", "failing", "untried"]


@dataclass(frozen=True, slots=True)
class TransportState:
    name: str  # tedapi, v1r, local, cloud, fleetapi
    state: LinkState
    failing_since: float | None  # epoch s of the first failure of the current run
    consecutive_failures: int
    last_error: str | None  # the newest failure (or degraded-data reason)
    next_probe: float | None  # epoch s a failed better-ranked transport is tried again

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "failing_since": self.failing_since,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "next_probe": self.next_probe,
        }


@dataclass(frozen=True, slots=True)
class TransportStatus:
    active: str
    transports: tuple[TransportState, ...]  # in preference order
    failovers: int  # switches to a less preferred transport so far
    recoveries: int  # switches back to a more preferred one
    degraded: str | None  # why the newest answer cannot be right for this site, if so
    active_since: float | None = None  # epoch s of the last switch (None: since the start)

    @property
    def preferred(self) -> str:
        return self.transports[0].name

    @property
    def on_fallback(self) -> bool:
        return self.active != self.preferred

    def problems(self) -> list[str]:
        """Why /health calls this gateway degraded (empty: it is not)."""
        found = []
        if self.on_fallback:
            found.append(f"on fallback transport {self.active} (preferred: {self.preferred})")
        if self.degraded is not None:
            found.append(f"degraded data from {self.active}: {self.degraded}")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "preferred": self.preferred,
            "on_fallback": self.on_fallback,
            "failovers": self.failovers,
            "recoveries": self.recoveries,
            "active_since": self.active_since,
            "degraded": self.degraded is not None,
            "degraded_reason": self.degraded,
            "transports": [link.as_dict() for link in self.transports],
        }


@dataclass(frozen=True, slots=True)
class GatewayState:
    """Everything the API says about one gateway; replaced whole on every change."""

    gateway_id: str
    name: str
    mode: str
    interval: float
    snapshot: Snapshot | None = None
    online: bool = False
    last_error: str | None = None
    last_attempt: float | None = None
    consecutive_failures: int = 0
    polls: int = 0
    failures: int = 0
    problem: str | None = None  # GatewayError.code of the current outage ("auth_failed")
    hint: str | None = None  # what the user can do about it
    transport: TransportStatus | None = None  # active transport, failovers (transports.py)

    def age(self, now: float) -> float | None:
        return None if self.snapshot is None else max(0.0, now - self.snapshot.taken_at)
