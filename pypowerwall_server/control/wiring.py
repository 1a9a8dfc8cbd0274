"""Control as one app builds it: the supervisor seen through control's Protocol, each
gateway's write target from its settings, the token guard (None while control is off) and
the audit trail. Routes (api/routes_control.py) and other front ends (MQTT) reach control
through `ControlAccess` on AppServices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pypowerwall_server.control.audit import AuditTrail
from pypowerwall_server.control.auth import TokenGuard
from pypowerwall_server.control.commands import Control
from pypowerwall_server.control.current import control_state
from pypowerwall_server.control.follow_up import FollowUps
from pypowerwall_server.control.limits import WriteTransport, supported_controls
from pypowerwall_server.control.operations import PowerwallWriter
from pypowerwall_server.control.readback import ControlState
from pypowerwall_server.control.service import ControlService
from pypowerwall_server.control.writes import ControlTarget
from pypowerwall_server.gateway.supervisor import GatewaySupervisor
from pypowerwall_server.settings import GatewayConfig, Settings

T = TypeVar("T")
AUDIT_CAPACITY = 200  # write attempts kept for the audit read route


class ControlGateways:
    """The gateway supervisor as control sees it (writes.ControlSupervisor)."""

    def __init__(self, supervisor: GatewaySupervisor) -> None:
        self._supervisor = supervisor

    async def submit(
        self, gateway_id: str, operation: Callable[[PowerwallWriter], T], timeout: float
    ) -> T:
        return await self._supervisor.submit(gateway_id, operation, timeout)

    async def refresh_slow_tier(self, gateway_id: str) -> None:
        await self._supervisor.refresh_slow_tier(gateway_id)

    def control_state(self, gateway_id: str) -> ControlState:
        snapshot = self._supervisor.state(gateway_id).snapshot
        return ControlState() if snapshot is None else control_state(snapshot.readings)


def control_target(config: GatewayConfig) -> ControlTarget:
    transport = config.write_transport
    return ControlTarget(
        config.id,
        config.mode,
        None if transport is None else WriteTransport(transport),
        _site_unknown(config),
    )


def _site_unknown(config: GatewayConfig) -> str | None:
    """A cloud/FleetAPI writer of a gateway that another transport reads must name its site:
    without siteid the library picks the account's first one, maybe another gateway's."""
    writer, reader = config.write_transport, config.read_transports[0]
    if writer not in ("cloud", "fleetapi") or writer == reader or config.siteid is not None:
        return None
    return (
        f"gateway '{config.id}' writes over {writer} while {reader} reads it: set its siteid "
        f"(PW_SITEID), the energy site it is, so a write cannot reach another site"
    )


@dataclass(frozen=True)
class ControlAccess:
    service: ControlService
    audit: AuditTrail
    guard: TokenGuard | None  # None: control is off (no secret, or switched off)
    follow_ups: FollowUps  # its `run` is a lifespan task

    @property
    def enabled(self) -> bool:
        return self.guard is not None

    def offered(self, gateway_id: str) -> frozenset[Control]:
        """The controls a gateway can be written: none while its writer is unsafe (a
        FleetAPI/cloud writer without siteid answers every write 409)."""
        target = self.service.target(gateway_id)
        return supported_controls(None if target.unsafe else target.transport)

    def overview(self) -> dict[str, object]:
        """What anyone may know (no token): whether control is on and what each gateway
        can write, so a UI shows or hides its controls. Never a secret."""
        gateways: dict[str, object] = {}
        for gateway_id, target in self.service.targets().items():
            controls = sorted(c.value for c in self.offered(gateway_id))
            transport = None if target.transport is None else target.transport.value
            gateways[gateway_id] = {"transport": transport, "controls": controls}
        return {"enabled": self.enabled, "gateways": gateways}


def build_control(settings: Settings, supervisor: GatewaySupervisor) -> ControlAccess:
    server = settings.server
    secret = server.control_secret.get_secret_value() if server.control_secret else None
    audit = AuditTrail(AUDIT_CAPACITY, secrets=(secret,) if secret else ())
    targets = {config.id: control_target(config) for config in settings.gateways}
    gateways = ControlGateways(supervisor)
    follow_ups = FollowUps(gateways)
    service = ControlService(gateways, targets, audit, follow_ups=follow_ups)
    guard = TokenGuard(secret) if server.control_on and secret else None
    return ControlAccess(service, audit, guard, follow_ups)
