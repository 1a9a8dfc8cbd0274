"""Battery dispatch: the site's power limits a dispatch must stay within, and what the server
knows of the dispatch running on each gateway.

A gateway cannot be asked whether a dispatch runs (pypowerwall has no getter), so the server
remembers the last one it sent: active from the acknowledgement until its duration has
passed or a resume was acknowledged. Signs as everywhere: power_w positive = discharge,
negative = charge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pypowerwall_server.control.commands import Command, DispatchBattery, ResumeBattery
from pypowerwall_server.control.limits import OverLimit
from pypowerwall_server.control.readback import ControlState

LIMITS_UNKNOWN = "the site's battery power limits are not known yet; retry after the next poll"


def site_limit_problem(command: Command, state: ControlState) -> OverLimit | str | None:
    """None when `command` is no dispatch or stays within the site's limits; an OverLimit
    (400) beyond them; a message (503) while the limits are not known."""
    if not isinstance(command, DispatchBattery):
        return None
    charging = command.power_w < 0
    limit = state.max_charge_w if charging else state.max_discharge_w
    if limit is None:
        return LIMITS_UNKNOWN
    if abs(command.power_w) > limit:
        verb = "charge" if charging else "discharge"
        return OverLimit(
            f"power_w {command.power_w} is beyond the site's limit: it can {verb} at most "
            f"{limit:.0f} W"
        )
    return None


@dataclass(frozen=True, slots=True)
class ActiveDispatch:
    power_w: int
    started_at: float  # epoch seconds, server clock
    ends_at: float

    def as_dict(self, now: float) -> dict[str, object]:
        return {
            "active": True,
            "power_w": self.power_w,
            "duration_s": round(self.ends_at - self.started_at),
            "started_at": _iso(self.started_at),
            "ends_at": _iso(self.ends_at),
            "remaining_s": max(0, round(self.ends_at - now)),
        }


INACTIVE: dict[str, object] = {
    "active": False,
    "power_w": None,
    "duration_s": None,
    "started_at": None,
    "ends_at": None,
    "remaining_s": None,
}


class DispatchTracker:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._active: dict[str, ActiveDispatch] = {}

    def note(self, gateway_id: str, command: Command, acknowledged: bool) -> None:
        """Remember what an acknowledged dispatch or resume did (a new dispatch replaces
        the running one, as on the gateway)."""
        if not acknowledged:
            return
        if isinstance(command, DispatchBattery):
            now = self._clock()
            dispatch = ActiveDispatch(command.power_w, now, now + command.duration_s)
            self._active[gateway_id] = dispatch
        elif isinstance(command, ResumeBattery):
            self._active.pop(gateway_id, None)

    def current(self, gateway_id: str) -> ActiveDispatch | None:
        dispatch = self._active.get(gateway_id)
        if dispatch is not None and self._clock() >= dispatch.ends_at:
            del self._active[gateway_id]  # it ended by itself on the gateway too
            return None
        return dispatch

    def state(self, gateway_id: str) -> dict[str, object]:
        """GET /control/dispatch: whether one runs, its power and when it ends."""
        dispatch = self.current(gateway_id)
        return dict(INACTIVE) if dispatch is None else dispatch.as_dict(self._clock())


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(round(epoch), UTC).isoformat().replace("+00:00", "Z")
