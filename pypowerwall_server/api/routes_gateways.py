"""Per-gateway and aggregate routes: thin wrappers over views (same bytes as the fast path)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from pypowerwall_server.api import schemas, views
from pypowerwall_server.api.deps import RuntimeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody, "description": "unknown gateway id (or data name)"},
    503: {"model": schemas.ErrorBody, "description": "no data yet, or data too old"},
}
# A str, not a Literal: an unknown name is a missing resource (404), not a malformed request.
DataName = Annotated[
    str,
    Path(
        description="one of the names", json_schema_extra={"enum": list(views.GATEWAY_DATA_CALLS)}
    ),
]


@router.get("/api/gateways", response_model=schemas.GatewayList, tags=["gateways"])
def list_gateways(rt: RuntimeDep) -> Response:
    return views.gateways_list(rt.hub).to_response()


@router.get(
    "/api/gateways/{gateway_id}",
    response_model=schemas.GatewayDetail,
    responses=_ERRORS,
    tags=["gateways"],
)
def gateway_detail(gateway_id: str, rt: RuntimeDep) -> Response:
    return views.gateway_detail(rt.hub, gateway_id).to_response()


@router.get("/api/gateways/{gateway_id}/{name}", responses=_ERRORS, tags=["gateways"])
def gateway_data(gateway_id: str, name: DataName, rt: RuntimeDep) -> Response:
    """The library's own value for this gateway: vitals, meter aggregates, strings, alerts
    or status, as of the newest poll."""
    return views.gateway_call(rt.hub, gateway_id, name).to_response()


@router.get(
    "/api/aggregate/power",
    response_model=schemas.AggregatePower,
    responses=_ERRORS,
    tags=["aggregate"],
)
def aggregate_power(rt: RuntimeDep) -> Response:
    """Sums over the fresh gateways, in W (grid = site). Stale gateways are listed, not counted."""
    return rt.aggregates.power().to_response()


@router.get(
    "/api/aggregate/soe",
    response_model=schemas.AggregateSoe,
    responses=_ERRORS,
    tags=["aggregate"],
)
def aggregate_soe(rt: RuntimeDep) -> Response:
    """Capacity-weighted state of energy over the fresh gateways with a battery."""
    return rt.aggregates.soe().to_response()


@router.get("/api/aggregate/status", response_model=schemas.AggregateStatus, tags=["aggregate"])
def aggregate_status(rt: RuntimeDep) -> Response:
    return rt.aggregates.status().to_response()
