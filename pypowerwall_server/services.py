"""The objects one app is made of, built once by create_app (the composition root).

The serving layers (http/, the WebSocket endpoints) are wired from it; FastAPI routes never
see it whole: they ask for one typed dependency each (api/deps.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.control.wiring import ControlAccess
from pypowerwall_server.events.service import EventService
from pypowerwall_server.exposition import Exposition
from pypowerwall_server.gateway.supervisor import GatewaySupervisor
from pypowerwall_server.history.service import HistoryService
from pypowerwall_server.hub import Hub
from pypowerwall_server.request_stats import RequestStats
from pypowerwall_server.settings import Settings
from pypowerwall_server.streams import Streams

if TYPE_CHECKING:  # starlette's own alias: http/ sits above this module
    from starlette.types import ASGIApp


class LiveServices:
    """What the lifespan starts and stops; None outside it."""

    streams: Streams | None = None

    def websocket_clients(self) -> int | None:
        return len(self.streams.active) if self.streams is not None else None


@dataclass(frozen=True)
class AppServices:
    settings: Settings
    hub: Hub
    answers: ReadModel  # the read model: every answer HTTP and the streams serve
    supervisor: GatewaySupervisor
    stats: RequestStats
    exposition: Exposition  # /metrics
    control: ControlAccess  # writes (api/routes_control.py, mqtt/commands.py)
    live: LiveServices = field(default_factory=LiveServices)
    mcp: ASGIApp | None = None  # /mcp for assistants (PW_MCP=yes), set by create_app
    history: HistoryService | None = None  # None only for apps built without create_app
    events: EventService | None = None  # /api/events, /ws/events, /health
