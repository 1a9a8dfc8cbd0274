"""The events' vocabulary (kinds, severities, PW_NOTIFY_EVENTS' groups): settings check
PW_NOTIFY_EVENTS against it, events/ decides and sends them."""

from __future__ import annotations

from typing import Literal, get_args

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
