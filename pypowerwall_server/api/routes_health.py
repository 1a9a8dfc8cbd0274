"""/health, /api/version and /stats."""

from __future__ import annotations

import datetime
import resource
from typing import Any

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from pypowerwall_server import __version__
from pypowerwall_server.api import schemas, stats_legacy
from pypowerwall_server.api.deps import ServicesDep
from pypowerwall_server.api.help_page import render_help
from pypowerwall_server.api.openapi_responses import JSON_404_ON_HTML, error
from pypowerwall_server.encoded_answer import json_answer
from pypowerwall_server.gateway.adapter import library_version
from pypowerwall_server.services import AppServices
from pypowerwall_server.settings import Settings

router = APIRouter()
_UNKNOWN_GATEWAY: dict[int | str, dict[str, Any]] = {404: error("unknown gateway id")}


@router.get(
    "/health",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "no gateway has fresh data"}},
    tags=["server"],
)
def health(services: ServicesDep) -> Response:
    """healthy: every gateway fresh on its preferred transport with data that can be right;
    degraded: some fresh, or a gateway on a fallback transport or serving degraded data
    (each gateway's `degraded` says why); unhealthy (503): none fresh, or none configured.
    `history` says whether the history store works (it never changes the status);
    `events`: the newest event id and notification delivery (URLs shown as #n (scheme))."""
    hub = services.hub
    now = hub.clock()
    entries = [
        {
            "id": s.gateway_id,
            "fresh": hub.is_fresh(s, now),
            "online": s.online,
            "age_seconds": s.age(now),
            "last_error": s.last_error,
            "problem": s.problem,
            "hint": s.hint,
            "transport": s.transport.active if s.transport else None,
            "degraded": s.transport.problems() if s.transport else [],
        }
        for s in hub.states()
    ]
    fresh = sum(1 for e in entries if e["fresh"])
    if entries and fresh == len(entries) and any(e["degraded"] for e in entries):
        status, code = "degraded", 200
    elif entries and fresh == len(entries):
        status, code = "healthy", 200
    elif fresh:
        status, code = "degraded", 200
    else:
        status, code = "unhealthy", 503
    events = services.events.health() if services.events is not None else None
    body: dict[str, Any] = {"status": status, "gateways": entries, "events": events}
    if services.history is not None:
        body["history"] = services.history.status()
    return json_answer(body, code).to_response()


@router.get("/api/version", response_model=schemas.VersionInfo, tags=["server"])
def version() -> Response:
    """The server's own version (GET /version is the legacy route: gateway firmware)."""
    return json_answer({"server": __version__, "pypowerwall": library_version()}).to_response()


@router.get("/stats", tags=["legacy"])
def stats(services: ServicesDep) -> Response:
    """The legacy proxy's /stats keys, then ours (per-route and per-gateway counts). No
    secrets: the config section says only whether each secret is set."""
    return json_answer(stats_body(services)).to_response()


@router.get("/gw/{gateway_id}/stats", tags=["legacy"], responses=_UNKNOWN_GATEWAY)
def gateway_stats(gateway_id: str, services: ServicesDep) -> Response:
    """/stats with the proxy's gateway keys (mode, site name, connection health...) about
    this gateway; the request counts are the server's."""
    return json_answer(stats_body(services, gateway_id)).to_response()


@router.get("/help", response_class=HTMLResponse, tags=["legacy"])
def help_page(services: ServicesDep) -> HTMLResponse:
    """The legacy proxy's status page: /stats as an HTML table, refreshed every 5 s."""
    return HTMLResponse(render_help(stats_body(services)))


@router.get(
    "/gw/{gateway_id}/help",
    response_class=HTMLResponse,
    tags=["legacy"],
    responses=JSON_404_ON_HTML,
)
def gateway_help_page(gateway_id: str, services: ServicesDep) -> HTMLResponse:
    """/help for one gateway: /gw/{id}/stats as an HTML table."""
    return HTMLResponse(render_help(stats_body(services, gateway_id)))


def stats_body(services: AppServices, gateway_id: str | None = None) -> dict[str, Any]:
    """Raises UnknownGateway (404) for an id that is not configured."""
    hub, settings, counts = services.hub, services.settings, services.stats
    now = hub.clock()
    default = hub.get(gateway_id if gateway_id is not None else hub.default_id)
    attrs = default.snapshot.attributes if default.snapshot else None
    routes = counts.as_dict()
    requests = sum(r["requests"] for r in routes.values())
    errors = sum(r["errors"] for r in routes.values())
    site_name = default.snapshot.readings.site_name if default.snapshot else None
    return {
        "pypowerwall": f"{library_version()} Server {__version__}",
        "mode": _legacy_mode(attrs.tedapi if attrs else False),
        "gets": requests,
        "posts": 0,
        "errors": errors,
        "timeout": sum(s.failures for s in hub.states()),
        "uri": {k: v["requests"] for k, v in routes.items()},
        "ts": int(now),
        "start": int(counts.started),
        "clear": int(counts.started),
        "uptime": str(datetime.timedelta(seconds=int(now - counts.started))),
        "mem": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "site_name": site_name,
        "cloudmode": attrs.cloudmode if attrs else False,
        "fleetapi": attrs.fleetapi if attrs else False,
        "tedapi": attrs.tedapi if attrs else False,
        "pw3": attrs.pw3 if attrs else False,
        "tedapi_mode": attrs.tedapi_mode if attrs else "off",
        "tedapi_api_version": attrs.tedapi_api_version if attrs else None,
        "siteid": None,
        "counter": 0,
        "cf": None,
        "config": _masked_config(settings),
        "connection_health": stats_legacy.connection_health(default),
        "fallback_mode": stats_legacy.fallback_mode(default),
        "mem_cache": stats_legacy.mem_cache(hub, services.answers, routes),
        "server": {
            "version": __version__,
            "uptime_seconds": now - counts.started,
            "websocket_clients": services.live.websocket_clients(),
            "events": services.events.health() if services.events is not None else None,
        },
        "routes": routes,
        "gateways": {
            s.gateway_id: {
                "mode": s.mode,
                "online": s.online,
                "stale": not hub.is_fresh(s, now),
                "age_seconds": s.age(now),
                "polls": s.polls,
                "failures": s.failures,
                "last_error": s.last_error,
            }
            for s in hub.states()
        },
    }


def _legacy_mode(tedapi: bool) -> str:
    return "Local (full)" if tedapi else "Local"


def _masked_config(settings: Settings) -> dict[str, Any]:
    server = settings.server
    return {
        "PW_BIND_ADDRESS": server.bind_address,
        "PW_PORT": server.port,
        "PW_NEG_SOLAR": server.neg_solar,
        "PW_SITE_ZERO_THRESHOLD": server.site_zero_threshold,
        "PW_NOTIFY_URLS": "***" if server.notify_urls is not None else None,
        "gateways": [
            {
                "id": g.id,
                "host": g.host,
                "mode": g.mode,
                "poll_interval": g.poll_interval,
                "gw_pwd": "***" if g.gw_pwd is not None else None,
                "password": "***" if g.password is not None else None,
            }
            for g in settings.gateways
        ],
    }
