"""The objects routes need, built once per app and reached through one typed dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from pypowerwall_server.api.stats import RequestStats
from pypowerwall_server.api.views import AggregateViews
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import LegacyOptions
from pypowerwall_server.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    hub: Hub
    aggregates: AggregateViews
    stats: RequestStats
    legacy_options: LegacyOptions


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
