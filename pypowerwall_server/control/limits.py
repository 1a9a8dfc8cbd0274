"""What each write transport can do (pypowerwall 0.22.2, ../shared/control-contract.md).

pypowerwall writes only through v1r (RSA-signed /tedapi/v1r on the wired LAN), the Tesla
cloud (Owner API) and FleetAPI. TEDAPI over the gateway Wi-Fi and the local customer API
are read-only: their setters return None. Max backup and the grid contactor (off-grid,
reconnect) exist only on v1r; the cloud and FleetAPI cap the reserve at 80 % (measured by
pypowerwall, PR #304: the value snaps back to 80). A reserve above the cap is still sent, as
pypowerwall does (Tesla may lift the cap): the read-back says what the gateway holds, and
the answer says when that is the cap (writes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from pypowerwall_server.control.commands import (
    Combined,
    Command,
    Control,
    SetOperation,
    SetReserve,
    controls_of,
)

# What a user configures for each transport; named in the 409 answer.
HOW_TO_CONFIGURE = (
    "set control_transport (PW_CONTROL_TRANSPORT) to fleetapi (FleetAPI: its config file "
    "in authpath, and siteid) or cloud (the Tesla cloud: email and authpath, and siteid), "
    "or read it over v1r (rsa_key_path, wired LAN)"
)


class WriteTransport(StrEnum):
    V1R = "v1r"
    CLOUD = "cloud"
    FLEETAPI = "fleetapi"


_ALL = frozenset(Control)
_V1R_ONLY = frozenset(
    {Control.MAX_BACKUP, Control.OFF_GRID, Control.RECONNECT, Control.DISPATCH, Control.RESUME}
)
# Only pypowerwall's v1r transport sends a battery dispatch (0.22: dispatch_battery_power).
_DISPATCH = frozenset({Control.DISPATCH, Control.RESUME})


@dataclass(frozen=True, slots=True)
class TransportLimits:
    label: str  # for messages
    controls: frozenset[Control]
    max_reserve: int  # app scale


LIMITS: Mapping[WriteTransport, TransportLimits] = {
    WriteTransport.V1R: TransportLimits("v1r", _ALL, 100),
    WriteTransport.CLOUD: TransportLimits("the Tesla cloud", _ALL - _V1R_ONLY, 80),
    WriteTransport.FLEETAPI: TransportLimits("FleetAPI", _ALL - _V1R_ONLY, 80),
}


@dataclass(frozen=True, slots=True)
class NoWritePath:
    """The gateway has no write transport at all (a 409)."""

    message: str


@dataclass(frozen=True, slots=True)
class NotOnTransport:
    """This transport cannot do this control (a 409: configure another transport)."""

    message: str


@dataclass(frozen=True, slots=True)
class OverLimit:
    """The value is beyond what the site accepts, e.g. a dispatch past its power limits (a
    400 that says so)."""

    message: str


Refusal = NoWritePath | NotOnTransport | OverLimit


def supported_controls(transport: WriteTransport | None) -> frozenset[Control]:
    """Controls to offer (UI, GET answers); empty when the gateway cannot write."""
    return frozenset() if transport is None else LIMITS[transport].controls


def check_command(
    gateway_id: str, read_mode: str, transport: WriteTransport | None, command: Command
) -> Refusal | None:
    """None when `transport` can carry `command` as given. `read_mode` is how the gateway is
    read ("tedapi", "local", ...), named when there is no way to write."""
    if transport is not WriteTransport.V1R and _DISPATCH & set(controls_of(command)):
        how = "is read-only" if transport is None else f"writes through {LIMITS[transport].label}"
        return NotOnTransport(
            f"battery dispatch needs the v1r transport (rsa_key_path, wired LAN): gateway "
            f"'{gateway_id}' is read over {read_mode} and {how}"
        )
    if transport is None:
        return NoWritePath(
            f"gateway '{gateway_id}' has no write transport: it is read over {read_mode}, "
            f"which is read-only; {HOW_TO_CONFIGURE}"
        )
    limits = LIMITS[transport]
    missing = [c.value for c in controls_of(command) if c not in limits.controls]
    if missing:
        return NotOnTransport(
            f"{', '.join(missing)} needs the v1r transport (rsa_key_path, wired LAN); "
            f"gateway '{gateway_id}' writes through {limits.label}"
        )
    return None


def reserve_cap(transport: WriteTransport | None, command: Command) -> str | None:
    """What to tell a client whose reserve is above this transport's cap (None: not)."""
    percent = reserve_of(command)
    if transport is None or percent is None or percent <= LIMITS[transport].max_reserve:
        return None
    limits = LIMITS[transport]
    return (
        f"{limits.label} caps the backup reserve at {limits.max_reserve} %: "
        f"{percent} % was sent; more than {limits.max_reserve} % needs the v1r transport"
    )


def reserve_of(command: Command) -> int | None:
    if isinstance(command, SetReserve | SetOperation | Combined):
        return command.percent
    return None
