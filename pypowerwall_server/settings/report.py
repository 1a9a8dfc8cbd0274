"""Human-readable text of resolved Settings for --check-config, one line per table row.

Secrets appear only as ***.
"""

from __future__ import annotations

from pydantic import BaseModel

from pypowerwall_server.settings.models import GatewayConfig, Settings
from pypowerwall_server.settings.rules import TRANSPORT_NOTES
from pypowerwall_server.settings.table import TABLE, Setting, at_level

SERVER_ROWS = at_level("server")
GATEWAY_ROWS = tuple(setting for setting in TABLE if setting.level != "server")


def describe(settings: Settings) -> str:
    lines = ["server:", *_lines(settings.server, SERVER_ROWS, "  ")]
    if settings.demo:
        lines.append("demo: yes (simulated gateways)")
    lines.append(f"gateways: {len(settings.gateways)}")
    for gateway in settings.gateways:
        first, name, *rest = _lines(gateway, GATEWAY_ROWS, "    ")
        lines.extend([f"  - {first.strip()}", name, f"    mode: {_mode(gateway)}"])
        lines.extend([*_transport_lines(gateway), _writer_line(gateway), *rest])
    return "\n".join(lines)


def _lines(model: BaseModel, rows: tuple[Setting, ...], indent: str) -> list[str]:
    return [f"{indent}{row.key}: {row.show(getattr(model, row.key))}" for row in rows]


def _mode(gateway: GatewayConfig) -> str:
    if gateway.rsa_key_path is not None and gateway.mode in ("local", "tedapi"):
        return f"{gateway.mode} (v1r: TEDAPI over the wired LAN)"
    hybrid = " (+ TEDAPI vitals)" if gateway.mode == "local" and gateway.uses_tedapi else ""
    return f"{gateway.mode}{hybrid}"


def _transport_lines(gateway: GatewayConfig) -> list[str]:
    """The ordered transports and what each one uses (failover order)."""
    if not gateway.transports:
        return []
    lines = ["    failover order (first preferred):"]
    for position, transport in enumerate(gateway.transports, 1):
        lines.append(f"      {position}. {transport}: uses {TRANSPORT_NOTES[transport]}")
    return lines


def _writer_line(gateway: GatewayConfig) -> str:
    """Where control writes go (gateway/writer.py), and what that connection uses."""
    writer = gateway.write_transport
    if writer is None:
        return "    control writes: none (read-only; control_transport names a writer)"
    own = "" if writer in gateway.read_transports else " (a connection of its own)"
    return f"    control writes: {writer}{own}, uses {TRANSPORT_NOTES[writer]}"
