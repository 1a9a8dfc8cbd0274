"""Per-gateway and aggregate routes: thin wrappers over the read model (answers.py), so
they give the same bytes as the hot path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from pypowerwall_server.api import schemas
from pypowerwall_server.api.deps import AnswersDep
from pypowerwall_server.api.openapi_responses import error
from pypowerwall_server.models import VERBATIM_NAMES

router = APIRouter()
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: error("unknown gateway id (or data name)"),
    503: error("no data yet, or data too old"),
}
# A str, not a Literal: an unknown name is a missing resource (404), not a malformed request.
DataName = Annotated[
    str, Path(description="one of the names", json_schema_extra={"enum": list(VERBATIM_NAMES)})
]


@router.get("/api/gateways", response_model=schemas.GatewayList, tags=["gateways"])
def list_gateways(answers: AnswersDep) -> Response:
    return answers.gateways_list().to_response()


@router.get(
    "/api/gateways/{gateway_id}",
    response_model=schemas.GatewayDetail,
    responses=_ERRORS,
    tags=["gateways"],
)
def gateway_detail(gateway_id: str, answers: AnswersDep) -> Response:
    return answers.gateway_detail(gateway_id).to_response()


@router.get("/api/gateways/{gateway_id}/{name}", responses=_ERRORS, tags=["gateways"])
def gateway_data(gateway_id: str, name: DataName, answers: AnswersDep) -> Response:
    """The library's own value for this gateway: vitals, meter aggregates, strings, alerts
    or status, as of the newest poll."""
    return answers.gateway_data(gateway_id, name).to_response()


@router.get(
    "/api/aggregate/power",
    response_model=schemas.AggregatePower,
    responses=_ERRORS,
    tags=["aggregate"],
)
def aggregate_power(answers: AnswersDep) -> Response:
    """Sums over the fresh gateways, in W (grid = site). Stale gateways are listed, not counted."""
    return answers.aggregate_power().to_response()


@router.get(
    "/api/aggregate/soe",
    response_model=schemas.AggregateSoe,
    responses=_ERRORS,
    tags=["aggregate"],
)
def aggregate_soe(answers: AnswersDep) -> Response:
    """Capacity-weighted state of energy over the fresh gateways with a battery."""
    return answers.aggregate_soe().to_response()


@router.get("/api/aggregate/status", response_model=schemas.AggregateStatus, tags=["aggregate"])
def aggregate_status(answers: AnswersDep) -> Response:
    return answers.aggregate_status().to_response()
