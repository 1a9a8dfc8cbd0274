"""Hand-written fakes at control's own Protocol boundaries (no MagicMock of pypowerwall)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pypowerwall_server.control.operations import PowerwallWriter
from pypowerwall_server.control.readback import ControlState

T = TypeVar("T")


@dataclass
class FakeWriter:
    """Records each library call; answers with `results[method]` (default: a v1r success),
    or raises it when it is an exception."""

    results: dict[str, object] = field(default_factory=dict)
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    def _answer(self, method: str, *args: object) -> object:
        self.calls.append((method, args))
        result = self.results.get(method, {"set_operation": {"result": {"response": {}}}})
        if isinstance(result, Exception):
            raise result
        return result

    def set_reserve(self, level: float) -> object:
        return self._answer("set_reserve", level)

    def set_mode(self, mode: str) -> object:
        return self._answer("set_mode", mode)

    def set_operation(self, level: float | None = None, mode: str | None = None) -> object:
        return self._answer("set_operation", level, mode)

    def set_grid_charging(self, mode: bool) -> object:
        return self._answer("set_grid_charging", mode)

    def set_grid_export(self, mode: str) -> object:
        return self._answer("set_grid_export", mode)

    def schedule_max_backup(self, duration_seconds: int = 7200) -> object:
        return self._answer("schedule_max_backup", duration_seconds)

    def cancel_max_backup(self) -> object:
        return self._answer("cancel_max_backup")

    def go_off_grid(self, confirm: bool = False) -> object:
        return self._answer("go_off_grid", confirm)

    def reconnect_grid(self) -> object:
        return self._answer("reconnect_grid")

    def dispatch_battery_power(self, power_watts: float, duration_seconds: int) -> object:
        return self._answer("dispatch_battery_power", power_watts, duration_seconds)

    def resume_battery_operation(self) -> object:
        return self._answer("resume_battery_operation")


@dataclass
class FakeSupervisor:
    """Runs operations inline on `writer`; the state becomes `after_refresh` on refresh."""

    writer: FakeWriter
    state: ControlState
    after_refresh: ControlState | None = None
    submit_error: Exception | None = None
    refresh_error: Exception | None = None
    submits: list[tuple[str, float]] = field(default_factory=list)
    refreshes: list[str] = field(default_factory=list)

    async def submit(
        self, gateway_id: str, operation: Callable[[PowerwallWriter], T], timeout: float
    ) -> T:
        self.submits.append((gateway_id, timeout))
        if self.submit_error is not None:
            raise self.submit_error
        return operation(self.writer)

    async def refresh_slow_tier(self, gateway_id: str) -> None:
        self.refreshes.append(gateway_id)
        if self.refresh_error is not None:
            raise self.refresh_error
        if self.after_refresh is not None:
            self.state = self.after_refresh

    def control_state(self, gateway_id: str) -> ControlState:
        return self.state
