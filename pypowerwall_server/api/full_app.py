"""The FastAPI app: every route (hot ones too, for /docs), error handlers and CORS.

Built by http/lazy_api.py on first use; imports FastAPI only when called.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pypowerwall_server import __version__
from pypowerwall_server.errors import ServerError
from pypowerwall_server.http.answer import error_answer
from pypowerwall_server.services import AppServices

if TYPE_CHECKING:
    from fastapi import FastAPI


def build_api(services: AppServices) -> FastAPI:
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    from pypowerwall_server.api import (
        openapi_responses,
        routes_gateways,
        routes_health,
        routes_legacy,
    )

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
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    api.include_router(routes_health.router)
    api.include_router(routes_gateways.router)
    api.include_router(routes_legacy.router)  # last: it ends in a catch-all
    return api


def allowed_methods(route_allow: str) -> str:
    """The route's methods (Starlette's Allow value) plus OPTIONS, which every route answers."""
    methods = [m.strip() for m in route_allow.split(",") if m.strip()]
    return ", ".join(dict.fromkeys([*methods, "OPTIONS"]))


def _install_error_handlers(api: FastAPI) -> None:
    from fastapi import Request
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
        # RFC 9110 15.5.6: a 405 lists the allowed methods; OPTIONS is one (CORS preflights,
        # when CORS is on, are answered by its middleware before this).
        allow = allowed_methods((exc.headers or {}).get("Allow", ""))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return replace(
            error_answer(405, str(exc.detail)), headers=(("allow", allow),)
        ).to_response()
