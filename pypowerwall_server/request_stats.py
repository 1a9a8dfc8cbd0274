"""Request and error counts per route, for /stats and /metrics. Counting is one dict update
per request, so it runs on the hot path too."""

from __future__ import annotations

import time
from dataclasses import dataclass

MAX_ROUTES = 200  # beyond this, new route keys count under "other" (random paths can't grow it)


@dataclass(slots=True)
class RouteCount:
    requests: int = 0
    errors: int = 0


class RequestStats:
    def __init__(self) -> None:
        self.started = time.time()
        self.routes: dict[str, RouteCount] = {}

    def count(self, route: str, status: int) -> None:
        entry = self.routes.get(route)
        if entry is None:
            route = route if len(self.routes) < MAX_ROUTES else "other"
            entry = self.routes.setdefault(route, RouteCount())
        entry.requests += 1
        if status >= 400:
            entry.errors += 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {k: {"requests": v.requests, "errors": v.errors} for k, v in self.routes.items()}
