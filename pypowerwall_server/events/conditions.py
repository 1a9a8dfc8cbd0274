"""One condition of one gateway (grid down, offline, battery low, an alert...) followed over
polls, with hold-down against flapping (docs/notifications.md):

- raised on the first poll that shows it (one event);
- cleared only once it has stayed away for `hold_down` seconds (one event, counting the
  flaps). A condition that comes back meanwhile was flapping: no new event, its count grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Condition:
    since: float  # epoch s it was raised
    count: int = 1  # times it appeared (1 + flaps while held)
    values: dict[str, Any] = field(default_factory=dict)  # as at the raise
    clear_seen: float | None = None  # epoch s it was first seen gone (clear pending)

    def as_saved(self) -> dict[str, Any]:
        return {"since": self.since, "count": self.count, "values": self.values}

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> Condition:
        return cls(float(data["since"]), int(data.get("count", 1)), dict(data.get("values", {})))


Change = tuple[str, Condition]  # ("raised" | "cleared", the condition)


class Conditions:
    """The active conditions of one gateway, by key ("grid", "offline", "alert:Name")."""

    def __init__(self, hold_down: float) -> None:
        self.hold_down = hold_down
        self.active: dict[str, Condition] = {}
        self.changed = False  # since the owner last saved

    def observe(
        self, key: str, present: bool, now: float, values: dict[str, Any] | None = None
    ) -> Change | None:
        """One poll's word on `key`: "raised", "cleared" or None (nothing to tell)."""
        condition = self.active.get(key)
        if present:
            if condition is None:
                condition = Condition(now, values=dict(values or {}))
                self.active[key] = condition
                self.changed = True
                return "raised", condition
            if condition.clear_seen is not None:  # back while its clear was held: a flap
                condition.clear_seen = None
                condition.count += 1
                self.changed = True
            return None
        if condition is None:
            return None
        if condition.clear_seen is None:
            condition.clear_seen = now
        if now - condition.clear_seen < self.hold_down:
            return None
        del self.active[key]
        self.changed = True
        return "cleared", condition

    def is_active(self, key: str) -> bool:
        return key in self.active

    def keys_with_prefix(self, prefix: str) -> list[str]:
        return [key for key in self.active if key.startswith(prefix)]

    def as_saved(self) -> dict[str, Any]:
        return {key: condition.as_saved() for key, condition in self.active.items()}

    def restore(self, saved: dict[str, Any]) -> None:
        self.active = {key: Condition.from_saved(data) for key, data in saved.items()}
