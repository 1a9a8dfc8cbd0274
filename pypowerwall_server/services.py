"""The objects routes need, built once per app (FastAPI reaches them through api/deps.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.api.stats import RequestStats
from pypowerwall_server.hub import Hub
from pypowerwall_server.settings import Settings

if TYPE_CHECKING:
    from pypowerwall_server.streams import Streams


class LiveServices:
    """What the lifespan starts and stops; None outside it."""

    streams: Streams | None = None


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    hub: Hub
    answers: ReadModel  # the read model: every answer HTTP and the streams serve
    stats: RequestStats
    live: LiveServices = field(default_factory=LiveServices)
