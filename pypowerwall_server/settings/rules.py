"""Cross-field rules for one gateway: which credentials each mode needs, which settings clash.

Shared by GatewayConfig's own validator (plain field names) and by the loader, which names
fields the way the user wrote them (PW_GW_PWD, --gw-pwd, gateways[1].gw_pwd).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from pydantic import SecretStr


class GatewayFields(Protocol):
    """What the rules read of a gateway (settings.models.GatewayConfig; a Protocol, so this
    module does not import the models that call it)."""

    @property
    def host(self) -> str | None: ...
    @property
    def gw_pwd(self) -> SecretStr | None: ...
    @property
    def password(self) -> SecretStr | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def cloud_mode(self) -> bool: ...
    @property
    def fleetapi(self) -> bool: ...
    @property
    def rsa_key_path(self) -> str | None: ...
    @property
    def wifi_host(self) -> str | None: ...
    @property
    def transports(self) -> tuple[str, ...]: ...
    @property
    def authpath(self) -> str | None: ...
    @property
    def siteid(self) -> int | None: ...
    @property
    def control_transport(self) -> str | None: ...
    @property
    def read_transports(self) -> tuple[str, ...]: ...


Problem = tuple[str | None, str]  # (field that triggered it, or None for the whole gateway; text)
Namer = Callable[[str], str]


def gateway_problems(gateway: GatewayFields, name: Namer) -> list[Problem]:
    """What is missing or contradictory in this gateway's settings; empty when usable."""
    return [*_read_problems(gateway, name), *_writer_problems(gateway, name)]


def _read_problems(gateway: GatewayFields, name: Namer) -> list[Problem]:
    if gateway.transports:
        return _transport_problems(gateway, name)
    if gateway.fleetapi:
        return _remote_problems(gateway, "fleetapi", name)
    if gateway.cloud_mode:
        problems = _remote_problems(gateway, "cloud_mode", name)
        if gateway.email is None:
            problems.append(("cloud_mode", f"cloud mode needs {name('email')}"))
        return problems
    return _local_problems(gateway, name)


def _remote_problems(gateway: GatewayFields, switch: str, name: Namer) -> list[Problem]:
    local = ("host", "gw_pwd", "password", "rsa_key_path", "wifi_host")
    local_keys = [key for key in local if getattr(gateway, key)]
    if not local_keys:
        return []
    listed = ", ".join(name(key) for key in local_keys)
    mode = "FleetAPI" if switch == "fleetapi" else "cloud"
    return [(switch, f"{listed} not used in {mode} mode; remove them or turn {name(switch)} off")]


def _local_problems(gateway: GatewayFields, name: Namer) -> list[Problem]:
    if gateway.wifi_host and not gateway.rsa_key_path:
        used = f"{name('wifi_host')} is used only in v1r mode; set {name('rsa_key_path')} too"
        return [("wifi_host", f"{used} or remove it")]
    has_secret = gateway.gw_pwd is not None or gateway.password is not None
    if gateway.host and not has_secret:
        wanted = f"{name('gw_pwd')} (TEDAPI) or {name('password')} (local mode)"
        return [("host", f"host is set but no credential; set {wanted}")]
    if gateway.password is not None and not gateway.host:
        return [("password", f"local mode needs {name('host')}")]
    if not gateway.host:
        return [
            (
                None,
                f"no connection settings: set {name('host')} with {name('gw_pwd')} (TEDAPI) or "
                f"{name('password')} (local), or {name('cloud_mode')} with {name('email')}, "
                f"or {name('fleetapi')}",
            )
        ]
    return []


# What each transport needs (gateway/transports.py builds its connection from these).
TRANSPORT_NEEDS: dict[str, tuple[str, ...]] = {
    "tedapi": ("gw_pwd",),
    "v1r": ("host", "password", "rsa_key_path"),
    "local": ("host", "password"),
    "cloud": ("email",),
    "fleetapi": (),
}
TRANSPORT_NOTES = {
    "tedapi": "gw_pwd; wifi_host, else host unless v1r/local use it, else 192.168.91.1",
    "v1r": "host, password, rsa_key_path (a registered key)",
    "local": "host, password",
    "cloud": "email; authpath with the cloud login (--setup cloud)",
    "fleetapi": "authpath with .pypowerwall.fleetapi (--setup fleetapi)",
}


def _transport_problems(gateway: GatewayFields, name: Namer) -> list[Problem]:
    problems: list[Problem] = []
    for switch in ("cloud_mode", "fleetapi"):
        if getattr(gateway, switch):
            problems.append((switch, f"with {name('transports')} list cloud/fleetapi there"))
    for transport in gateway.transports:
        missing = [key for key in TRANSPORT_NEEDS[transport] if not getattr(gateway, key)]
        if missing:
            listed = ", ".join(name(key) for key in missing)
            problems.append(("transports", f"transport {transport} needs {listed}"))
    return problems


# pypowerwall's auth files in authpath, written by --setup cloud / --setup fleetapi
AUTH_FILES = {"cloud": ".pypowerwall.auth", "fleetapi": ".pypowerwall.fleetapi"}


def _writer_problems(gateway: GatewayFields, name: Namer) -> list[Problem]:
    """A control_transport that does not read the gateway gets a connection of its own
    (gateway/writer.py): the cloud or FleetAPI, with its own credentials and site."""
    writer = gateway.control_transport
    if writer is None or writer in gateway.read_transports:
        return []
    key = name("control_transport")
    if writer == "v1r":
        where = f"set {name('rsa_key_path')} or list v1r in {name('transports')}"
        return [("control_transport", f"{key} v1r writes over a v1r connection: {where}")]
    problems: list[Problem] = []
    missing = [k for k in (*TRANSPORT_NEEDS[writer], "siteid") if getattr(gateway, k) is None]
    if missing:
        listed = ", ".join(name(k) for k in missing)
        why = (
            " (its energy site: a write never reaches another site)" if "siteid" in missing else ""
        )
        problems.append(("control_transport", f"{key} {writer} needs {listed}{why}"))
    folder = os.path.expanduser(gateway.authpath or ".")
    if not os.path.isfile(os.path.join(folder, AUTH_FILES[writer])):
        problems.append(
            (
                "control_transport",
                f"{key} {writer} needs {AUTH_FILES[writer]} in {name('authpath')} "
                f"({folder}): run --setup {writer}",
            )
        )
    return problems
