"""GET /metrics: Prometheus exposition (prometheus.py), computed when scraped."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from pypowerwall_server.api.deps import ExpositionDep

router = APIRouter()


@router.get("/metrics", tags=["server"], response_class=Response)
async def metrics(exposition: ExpositionDep) -> Response:
    """Every numeric metric per gateway and battery, and the server's own counts, in
    Prometheus' text format. Unknown values are absent, never 0."""
    return Response(exposition.render(), media_type=CONTENT_TYPE_LATEST)
