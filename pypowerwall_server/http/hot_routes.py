"""The hot route table: raw target (path with query) → answer function, served by the hot
protocol and the hot ASGI app (http/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable

from pypowerwall_server.encoded_answer import Answer
from pypowerwall_server.models import VERBATIM_NAMES, VerbatimName
from pypowerwall_server.services import AppServices

# Legacy paths polled every few seconds by Telegraf, Home Assistant and scripts.
HOT_LEGACY_PATHS = (
    "/aggregates",
    "/api/meters/aggregates",
    "/soe",
    "/api/system_status/soe",
    "/vitals",
    "/strings",
    "/freq",
    "/pod",
    "/battery",
    "/json",
    "/temps",
    "/temps/pw",
    "/alerts",
    "/alerts/pw",
    "/fans",
    "/fans/pw",
    "/csv",
    "/csv?headers",
    "/csv/v2",
    "/csv/v2?headers",
    "/version",
)


def hot_routes(services: AppServices) -> dict[str, Callable[[], Answer]]:
    hub, answers = services.hub, services.answers
    routes: dict[str, Callable[[], Answer]] = {
        "/api/aggregate/power": answers.aggregate_power,
        "/api/aggregate/soe": answers.aggregate_soe,
    }

    def legacy(gateway_id: str, path: str) -> Callable[[], Answer]:
        return answers.hot_legacy(gateway_id, path)

    def data(gateway_id: str, name: VerbatimName) -> Callable[[], Answer]:
        return lambda: answers.gateway_data(gateway_id, name)

    for path in HOT_LEGACY_PATHS:
        routes[path] = legacy(hub.default_id, path)
    for gid in hub.gateway_ids:
        for path in HOT_LEGACY_PATHS:
            routes[f"/gw/{gid}{path}"] = legacy(gid, path)
        for name in VERBATIM_NAMES:
            routes[f"/api/gateways/{gid}/{name}"] = data(gid, name)
    return routes
