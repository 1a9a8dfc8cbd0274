"""The FastAPI app: every route (hot ones too, for /docs), error handlers and CORS.

Built by http/lazy_api.py on first use; imports FastAPI only when called.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from pypowerwall_server import __version__
from pypowerwall_server.encoded_answer import error_answer
from pypowerwall_server.errors import ServerError
from pypowerwall_server.services import AppServices

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI, Request


def build_api(services: AppServices) -> FastAPI:
    from fastapi import FastAPI

    from pypowerwall_server.api import (
        openapi_responses,
        routes_control,
        routes_events,
        routes_gateways,
        routes_health,
        routes_history,
        routes_legacy,
        routes_metrics,
    )
    from pypowerwall_server.api.control_cors import CorsExceptControl

    api = FastAPI(
        title="pypowerwall-server",
        version=__version__,
        description="Tesla Powerwall gateways, polled gently and served from memory.",
        responses=openapi_responses.EVERY_ROUTE,
        docs_url=None,  # /docs and /redoc: our pages with local assets (web/layer.py)
        redoc_url=None,
    )
    api.state.services = services  # read by the typed dependencies (api/deps.py)
    _install_error_handlers(api)
    origins = services.settings.server.cors_origins
    if origins:
        api.add_middleware(
            CorsExceptControl,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    routers = [
        routes_health.router,
        routes_control.router,  # before the gateways' and legacy catch-alls
        routes_events.router,
        routes_gateways.router,
        routes_history.router,
        routes_metrics.router,
        routes_legacy.router,  # last: it ends in a catch-all
    ]
    for router in routers:
        api.include_router(router)
    if services.mcp is not None:  # before the legacy catch-all
        from starlette.routing import Route

        from pypowerwall_server.assistant.endpoint import METHODS, PATH

        api.router.routes.insert(0, Route(PATH, services.mcp, methods=list(METHODS)))
    api.state.method_table = _method_table(routers)  # for Allow (allowed_methods)
    return api


MethodTable = list[tuple[re.Pattern[str], set[str], bool]]  # path, methods, catch-all


def allowed_methods(request: Request) -> str:
    """Every method a route answers at this path (a path may have a GET and a POST route;
    Starlette's own Allow names the first one only), plus OPTIONS. The legacy catch-all
    (undocumented, it matches every path) counts only where no other route does."""
    path = request.scope.get("path", "")
    table: MethodTable = request.app.state.method_table
    matching = [(methods, catch_all) for regex, methods, catch_all in table if regex.match(path)]
    specific = [m for methods, catch_all in matching if not catch_all for m in methods]
    methods = specific or [m for route_methods, _ in matching for m in route_methods]
    return ", ".join(dict.fromkeys([*sorted(set(methods)), "OPTIONS"]))


def _method_table(routers: list[APIRouter]) -> MethodTable:
    from fastapi.routing import APIRoute

    return [
        (route.path_regex, set(route.methods or ()), not route.include_in_schema)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def _install_error_handlers(api: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.responses import Response

    @api.exception_handler(ServerError)
    async def server_error(_: Request, exc: ServerError) -> Response:
        return error_answer(exc.status_code, exc.message).to_response()

    @api.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return error_answer(422, f"invalid request: {problems}").to_response()

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code != 405:
            return error_answer(exc.status_code, str(exc.detail)).to_response()
        # RFC 9110 15.5.6: a 405 lists the allowed methods; OPTIONS is one. A CORS preflight
        # gets here only when no CORS rule allows it (the middleware answers the allowed
        # ones; control routes never): it stays a 405, so the browser's request is refused.
        allow = allowed_methods(request)
        preflight = "access-control-request-method" in request.headers
        if request.method == "OPTIONS" and not preflight:
            return Response(status_code=204, headers={"Allow": allow})
        return replace(
            error_answer(405, str(exc.detail)), headers=(("allow", allow),)
        ).to_response()
