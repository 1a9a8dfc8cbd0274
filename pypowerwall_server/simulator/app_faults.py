"""Faults that change the simulated site itself, through the app's control methods:
switching them on remembers the value they replace, so expiry can put it back."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pypowerwall_server.simulator.faults import Fault, FaultError
from pypowerwall_server.simulator.interface import SimulatedGatewayApp


@runtime_checkable
class HidesMeters(Protocol):
    """A simulated gateway that can play the "solar only" state (SimulatedGateway)."""

    def set_solar_only(self, enabled: bool) -> None:
        """When enabled, the local meter aggregates (local API and TEDAPI) lose the battery
        and grid meters; the Fleet API (the cloud's own copy) keeps them."""
        ...


@runtime_checkable
class DelaysWrites(Protocol):
    """A simulated gateway that can apply settings writes late (SimulatedGateway)."""

    def set_apply_delay(self, seconds: float) -> None:
        """Settings writes accepted from now on apply `seconds` later (0: at once)."""
        ...


@runtime_checkable
class RaisesAlerts(Protocol):
    """A simulated gateway that can show an extra active alert (SimulatedGateway)."""

    def set_extra_alert(self, name: str | None) -> None:
        """Add `name` to the active alerts (None: no extra alert)."""
        ...


class AppSettings:
    """The app-level settings the simulator has applied to one gateway. The app exposes
    setters only, so the values the state does not show (wrong password) are tracked here."""

    def __init__(self, app: SimulatedGatewayApp | None) -> None:
        self._site = app  # None: a listener with no site behind it (the Fleet API)
        self.wrong_password = False
        self.missing_powerwall: int | None = None
        self.solar_only = False
        self.apply_delay = 0.0
        self.extra_alert: str | None = None

    def _app(self) -> SimulatedGatewayApp:
        if self._site is None:
            raise FaultError("this listener has no site: site faults apply to gateways")
        return self._site

    def current(self, fault: Fault) -> Any:
        """The value `fault` would replace."""
        if fault.kind == "wrong_password":
            return self.wrong_password
        if fault.kind == "grid_outage":
            return self._app().state().grid_up
        if fault.kind == "missing_powerwall":
            return self.missing_powerwall
        if fault.kind == "solar_only":
            return self.solar_only
        if fault.kind == "slow_apply":
            return self.apply_delay
        if fault.kind == "alert":
            return self.extra_alert
        return self._app().state().firmware_version

    def apply(self, fault: Fault) -> None:
        if fault.kind == "wrong_password":
            self.set_wrong_password(True)
        elif fault.kind == "grid_outage":
            self._app().set_grid_up(False)
        elif fault.kind == "missing_powerwall":
            self.set_missing_powerwall(fault.index)
        elif fault.kind == "firmware":
            self._app().set_firmware(fault.version)
        elif fault.kind == "solar_only":
            self.set_solar_only(True)
        elif fault.kind == "slow_apply":
            self.set_apply_delay(fault.delay_s)
        elif fault.kind == "alert":
            self.set_extra_alert(fault.alert)

    def restore(self, fault: Fault, previous: Any) -> None:
        if fault.kind == "wrong_password":
            self.set_wrong_password(bool(previous))
        elif fault.kind == "grid_outage":
            self._app().set_grid_up(bool(previous))
        elif fault.kind == "missing_powerwall":
            self.set_missing_powerwall(previous)
        elif fault.kind == "firmware":
            self._app().set_firmware(str(previous))
        elif fault.kind == "solar_only":
            self.set_solar_only(bool(previous))
        elif fault.kind == "slow_apply":
            self.set_apply_delay(float(previous))
        elif fault.kind == "alert":
            self.set_extra_alert(previous)

    def set_wrong_password(self, enabled: bool) -> None:
        self.wrong_password = enabled
        self._app().set_wrong_password_mode(enabled)

    def set_missing_powerwall(self, index: int | None) -> None:
        self.missing_powerwall = index
        self._app().set_missing_powerwall(index)

    def set_solar_only(self, enabled: bool) -> None:
        app = self._app()
        if not isinstance(app, HidesMeters):
            raise FaultError("this simulated gateway cannot play the solar_only state")
        self.solar_only = enabled
        app.set_solar_only(enabled)

    def set_apply_delay(self, seconds: float) -> None:
        app = self._app()
        if not isinstance(app, DelaysWrites):
            raise FaultError("this simulated gateway cannot apply writes late")
        self.apply_delay = seconds
        app.set_apply_delay(seconds)

    def set_extra_alert(self, name: str | None) -> None:
        app = self._app()
        if not isinstance(app, RaisesAlerts):
            raise FaultError("this simulated gateway cannot show an extra alert")
        self.extra_alert = name
        app.set_extra_alert(name)
