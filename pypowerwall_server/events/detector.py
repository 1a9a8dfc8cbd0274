"""Events from the hub's states: each gateway's conditions followed poll by poll (pure,
driven by the states it is shown; time is the states' own).

What is announced at the first look, with nothing remembered from before: an abnormal
condition (grid down, offline, battery low, on a fallback transport) is; alerts and the
firmware version are taken as they are (a baseline, not news). With a remembered state
(`restore`), conditions already known are not announced again after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pypowerwall_server.events.conditions import Change, Conditions
from pypowerwall_server.events.model import EventDraft
from pypowerwall_server.events.sentences import backup_hours, sentence
from pypowerwall_server.gateway.poller import GatewayState
from pypowerwall_server.models import Readings
from pypowerwall_server.settings.event_kinds import EventKind

RECOVERY_MARGIN_PERCENT = 5.0  # soe_low clears this far above its threshold (no chatter)
FULL_PERCENT = 99.5  # battery_full at or above (app scale) ...
FULL_AGAIN_BELOW = 95.0  # ... and again only after falling below this
# Alerts that mirror a condition with events of its own: the grid's state, which the
# gateway (and the library's alerts()) also lists as an alert.
MIRRORED_ALERTS = frozenset(
    {
        "SystemConnectedToGrid",
        "SystemGridConnected",
        "SystemIslandedActive",
        "SystemIslandedReady",
        "SystemTransitionToGrid",
        "SystemTransitionToIsland",
        "SystemMicroGridFaulted",
        "SystemWaitForUser",
    }
)
# Conditions: (key, kind when raised, kind when cleared or None for a silent clear)
KINDS: dict[str, tuple[EventKind, EventKind | None]] = {
    "grid": ("grid_outage", "grid_restored"),
    "offline": ("gateway_offline", "gateway_online"),
    "soe_low": ("soe_low", "soe_recovered"),
    "battery_full": ("battery_full", None),
    "transport": ("transport_failover", "transport_recovered"),
    "alert": ("alert_raised", "alert_cleared"),
}


class GatewayWatch:
    """One gateway's conditions, firmware and alert baseline."""

    def __init__(self, gateway_id: str, name: str, soe_low: float, hold_down: float) -> None:
        self.gateway_id, self.name = gateway_id, name
        self.soe_low = soe_low
        self.conditions = Conditions(hold_down)
        self.firmware: str | None = None
        self.alerts_known = False  # the alert baseline is taken
        self._last_taken_at: float | None = None

    @property
    def changed(self) -> bool:
        return self.conditions.changed

    def saved(self) -> dict[str, Any]:
        self.conditions.changed = False
        return {
            "conditions": self.conditions.as_saved(),
            "firmware": self.firmware,
            "alerts_known": self.alerts_known,
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.conditions.restore(dict(saved.get("conditions") or {}))
        firmware = saved.get("firmware")
        self.firmware = firmware if isinstance(firmware, str) else None
        self.alerts_known = bool(saved.get("alerts_known"))

    def observe(self, state: GatewayState, now: float) -> list[EventDraft]:
        drafts: list[EventDraft] = []
        if state.polls or state.failures:  # polled at least once
            values = {"error": state.last_error, "problem": state.problem, "hint": state.hint}
            self._follow(drafts, "offline", not state.online, now, values, state)
        snapshot = state.snapshot
        if state.online and snapshot is not None and snapshot.taken_at != self._last_taken_at:
            self._last_taken_at = snapshot.taken_at
            self._readings(drafts, snapshot.readings, snapshot.taken_at, state)
        return drafts

    def _readings(
        self, drafts: list[EventDraft], readings: Readings, now: float, state: GatewayState
    ) -> None:
        battery = _battery_values(readings)
        if readings.grid_status is not None:
            self._follow(drafts, "grid", readings.grid_status != "UP", now, battery)
        soe = readings.soe_percent_app
        if soe is not None:
            limit = self.soe_low + (RECOVERY_MARGIN_PERCENT if self._on("soe_low") else 0.0)
            low_values = {**battery, "threshold_percent": self.soe_low}
            self._follow(drafts, "soe_low", soe < limit, now, low_values)
            full = soe >= (FULL_AGAIN_BELOW if self._on("battery_full") else FULL_PERCENT)
            self._follow(drafts, "battery_full", full, now, battery)
        if state.transport is not None:
            link = state.transport
            values = {"active": link.active, "preferred": link.preferred}
            self._follow(drafts, "transport", link.on_fallback, now, values)
        if readings.alerts is not None:
            self._alerts(drafts, set(readings.alerts) - MIRRORED_ALERTS, now)
        self._firmware(drafts, readings.firmware_version, now)

    def _alerts(self, drafts: list[EventDraft], names: set[str], now: float) -> None:
        if not self.alerts_known:  # first look: the baseline, not news
            for name in names:
                self.conditions.observe(f"alert:{name}", True, now, {"alert": name})
            self.alerts_known = self.conditions.changed = True
            return
        keys = {f"alert:{name}" for name in names} | set(self.conditions.keys_with_prefix("alert:"))
        for key in sorted(keys):
            name = key.removeprefix("alert:")
            self._follow(drafts, key, name in names, now, {"alert": name})

    def _firmware(self, drafts: list[EventDraft], version: str | None, now: float) -> None:
        if version is None or version == self.firmware:
            return
        old, self.firmware = self.firmware, version
        self.conditions.changed = True
        if old is not None:
            values = {"old": old, "new": version}
            drafts.append(self._draft("firmware_changed", now, values))

    def _on(self, key: str) -> bool:
        return self.conditions.is_active(key)

    def _follow(
        self,
        drafts: list[EventDraft],
        key: str,
        present: bool,
        now: float,
        values: dict[str, Any],
        state: GatewayState | None = None,
    ) -> None:
        change = self.conditions.observe(key, present, now, values)
        if change is not None:
            drafts.extend(self._drafts_for(key, change, now, values, state))

    def _drafts_for(
        self,
        key: str,
        change: Change,
        now: float,
        values: dict[str, Any],
        state: GatewayState | None,
    ) -> Iterable[EventDraft]:
        what, condition = change
        raised_kind, cleared_kind = KINDS[key.split(":")[0]]
        if what == "raised":
            kind = raised_kind
            if key == "offline" and state is not None and state.problem == "auth_failed":
                kind = "auth_failed"
            return [self._draft(kind, now, values)]
        if cleared_kind is None:
            return []
        ended = {**values, "duration_s": round(now - condition.since, 1), "since": condition.since}
        return [self._draft(cleared_kind, now, ended, condition.count)]

    def _draft(
        self, kind: EventKind, now: float, values: dict[str, Any], count: int = 1
    ) -> EventDraft:
        message = sentence(kind, self.name, values, count)
        return EventDraft(kind, now, self.gateway_id, message, values, count)


def _battery_values(readings: Readings) -> dict[str, Any]:
    soe = readings.soe_percent_app
    load = readings.power_w.load if readings.power_w is not None else None
    hours = backup_hours(readings.energy_remaining_wh, load)
    return {
        "soe_percent": None if soe is None else round(soe, 1),
        "energy_remaining_wh": readings.energy_remaining_wh,
        "load_w": load,
        "backup_hours": None if hours is None else round(hours, 1),
    }
