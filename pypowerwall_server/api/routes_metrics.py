"""GET /metrics: Prometheus exposition (exposition.py, prometheus.py), computed when scraped."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pypowerwall_server.api.deps import ExpositionDep

router = APIRouter()


@router.get("/metrics", tags=["server"], response_class=Response)
async def metrics(exposition: ExpositionDep) -> Response:
    """Every numeric metric per gateway and battery, and the server's own counts, in
    Prometheus' text format. Unknown values are absent, never 0."""
    body, media_type = exposition.render()
    return Response(body, media_type=media_type)
