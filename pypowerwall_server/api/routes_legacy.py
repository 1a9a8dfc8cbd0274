"""The legacy pypowerwall proxy's read routes, for the default gateway and under
/gw/{id}/... for each gateway. The hot ones are usually answered by the hot path first (http/);
these declarations document them and answer everything else with the same bytes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pypowerwall_server.api.deps import AnswersDep
from pypowerwall_server.api.openapi_responses import LEGACY
from pypowerwall_server.http.hot_routes import HOT_LEGACY_PATHS

router = APIRouter(tags=["legacy"], responses=LEGACY)

# Documented in /docs: the hot paths (the hot route table) without their query variants;
# every other legacy path (/api/*, /pw/*, /tedapi/*, /csv...) is served by the catch-alls.
DOCUMENTED_PATHS = tuple(path for path in HOT_LEGACY_PATHS if "?" not in path)


def _path_and_query(request: Request, path: str) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _default_gateway_route(path: str) -> None:
    def endpoint(request: Request, answers: AnswersDep) -> Response:
        answer = answers.legacy(answers.hub.default_id, _path_and_query(request, path))
        return answer.to_response()

    endpoint.__name__ = "legacy" + path.replace("/", "_")
    endpoint.__doc__ = f"Legacy proxy route {path} for the default gateway."
    router.add_api_route(path, endpoint, methods=["GET"])


for _path in DOCUMENTED_PATHS:
    _default_gateway_route(_path)


@router.get("/gw/{gateway_id}/{legacy_path:path}")
def gateway_legacy(
    gateway_id: str, legacy_path: str, request: Request, answers: AnswersDep
) -> Response:
    """Any legacy route for one gateway, e.g. /gw/cabin/aggregates or /gw/cabin/csv/v2?headers."""
    path = _path_and_query(request, "/" + legacy_path)
    return answers.legacy(gateway_id, path).to_response()


@router.get("/{legacy_path:path}", include_in_schema=False)
def default_legacy(legacy_path: str, request: Request, answers: AnswersDep) -> Response:
    path = _path_and_query(request, "/" + legacy_path)
    return answers.legacy(answers.hub.default_id, path).to_response()
