"""The narrow seam between the simulator's transport (server.py: HTTPS, faults, request
log, admin API) and a simulated gateway's semantics (gateway.py: auth, paths, payloads).

The transport parses HTTP and hands each request to `SimulatedGatewayApp.handle`; it never
looks inside payloads. The admin API changes the site through the control methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pypowerwall_server.simulator.state import ExportRule, OperatingMode, SiteState


@dataclass(frozen=True, slots=True)
class SimRequest:
    method: str  # "GET", "POST", ...
    path: str  # path without the query string, e.g. "/api/meters/aggregates"
    query: str  # raw query string without "?", "" when absent
    headers: Mapping[str, str]  # lower-cased header names
    body: bytes


@dataclass(frozen=True, slots=True)
class SimResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # e.g. Set-Cookie


class RequestHandler(Protocol):
    """What the transport needs from anything it serves (a gateway, the Fleet API)."""

    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request. Never raises: malformed input gets a 4xx response."""
        ...


@runtime_checkable
class SimulatedGatewayApp(RequestHandler, Protocol):
    """What the transport and the admin API need from one simulated gateway."""

    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request as a Tesla Energy Gateway would. Never raises: malformed
        input gets a 4xx response."""
        ...

    def state(self) -> SiteState:
        """The site's state now (advances the model to the current time)."""
        ...

    # --- control used by the simulator's admin API (faults and scenarios) ---
    def set_grid_up(self, up: bool) -> None: ...
    def set_operation(
        self, mode: OperatingMode | None, reserve_raw_percent: float | None
    ) -> None: ...
    def set_grid_charging(self, enabled: bool) -> None: ...
    def set_export_rule(self, rule: ExportRule) -> None: ...
    def set_wrong_password_mode(self, enabled: bool) -> None:
        """When enabled, every login and TEDAPI Basic auth is refused as with a bad password."""
        ...

    def set_missing_powerwall(self, index: int | None) -> None:
        """Hide the Powerwall at this 0-based index from vitals/status (None = none hidden)."""
        ...

    def set_firmware(self, version: str) -> None:
        """Switch the firmware version (e.g. "23.36.1 abc" serves /api/devices/vitals
        protobuf; 23.44 and newer answer 404 there, as real gateways do)."""
        ...
