"""GET /api/events: the newest events (docs/notifications.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from pypowerwall_server.api.deps import ServicesDep
from pypowerwall_server.api.openapi_responses import error
from pypowerwall_server.api.schemas import EventList
from pypowerwall_server.events.query import MAX_LIMIT, parse_query
from pypowerwall_server.http.answer import json_answer

router = APIRouter()


@router.get(
    "/api/events",
    response_model=EventList,
    responses={400: error("bad since, gateway, kind or limit")},
    tags=["events"],
)
def events(
    services: ServicesDep,
    since: Annotated[
        str | None, Query(description="only events after this id, or after this ISO time")
    ] = None,
    gateway: Annotated[str | None, Query(description="only this gateway's events")] = None,
    kind: Annotated[
        list[str] | None, Query(description="only these kinds (repeat or comma-separate)")
    ] = None,
    limit: Annotated[int, Query(description=f"at most this many (1-{MAX_LIMIT})")] = MAX_LIMIT,
) -> Response:
    """Events oldest first (at most the newest `limit` that match); `last_id` is the newest
    event's id overall, for the next `since`."""
    query = parse_query(since, gateway, kind or (), services.hub.gateway_ids, limit)
    service = services.events
    if service is None:
        return json_answer({"events": [], "last_id": 0}).to_response()
    chosen = query.select(service.ring)
    body = {"events": [e.as_dict() for e in chosen], "last_id": service.ring.next_id - 1}
    return json_answer(body).to_response()
