"""Legacy proxy read routes: path matching (contract §3), cache keys and dispatch.

Matching follows the proxy's order: exact matches on the whole path including the query
string, except the prefixes /csv…, /tedapi…, /cloud…, /fleetapi…, /fans/pw…, the `/api/*`
allowlist and disabled list (matched on the path without query), and /pw/<fn> (any query
makes <fn> invalid).  /stats, /health, /help, /control/* and the web branch are not ours:
they resolve to None.

Each route has one primary source.  When it is missing the route answers Unavailable (the
server's 503 + Retry-After) where the proxy answered 200 with null/"TIMEOUT!"/{}/[]/zeros;
secondary values that are missing inside a present answer keep the proxy's null/0.  When
the gateway never provides the source (not_provided.py: vitals on local firmware >= 23.44,
/api/meters/solar over TEDAPI, a call empty for many healthy polls in a row) the route
answers the proxy's empty body with an X-Data-Unavailable header instead.

| route                               | primary source (Unavailable when ...)                      |
|-------------------------------------|-------------------------------------------------------|
| /aggregates, /api/meters/aggregates | poll('/api/meters/aggregates') None or empty          |
| /csv…, /json                        | poll('/api/meters/aggregates') None, empty, not dict  |
| /soe                                | poll('/api/system_status/soe') None                   |
| /api/system_status/soe              | level(scale=True) None                                |
| /vitals, /pw/vitals                 | vitals() None                                         |
| /strings, /pw/strings               | strings() None: no vitals and no /api/solar_powerwall |
|                                     | pvac_status                                           |
| /temps, /temps/pw, /pw/temps        | temps() None: vitals() None                           |
| /alerts, /alerts/pw, /pw/alerts     | alerts() None: no vitals and no /api/solar_powerwall  |
| /freq, /pod                         | system_status() and vitals() both None                |
| /version                            | version() None (poll('/api/status') None or no key)   |
| /fans, /fans/pw… (TEDAPI)           | tedapi.get_fan_speeds() None                          |
| /tedapi/<config|status|...>         | that tedapi.get_*() None                              |
| /api/<allowlisted path>             | poll('<path>') None                                   |
| /pw/level                           | poll('/api/system_status/soe') None                   |
| /pw/power, /pw/aggregates           | poll('/api/meters/aggregates') None or empty          |
| /pw/site, /solar, /battery, /load,  | that aggregates section None (or the aggregates       |
| /grid, /home                        | missing)                                              |
| /pw/din, /pw/uptime, /pw/version    | poll('/api/status') None                              |
| /pw/status, /pw/system_status       | poll('/api/status') / poll('/api/system_status') None |
| /pw/battery_blocks                  | poll('/api/system_status') None                       |
| /pw/grid_status                     | poll('/api/system_status/grid_status') None           |
| /pw/site_name                       | poll('/api/site_info/site_name') None                 |
| /pw/get_reserve, /pw/get_mode       | poll('/api/operation') None                           |
| /pw/get_time_remaining              | get_time_remaining() None                             |
| /pw/is_connected                    | never (False when poll('/api/status') is None)        |
| constants: /api/customer/           | none (the proxy's fixed answers; without TEDAPI,      |
| registration, /api/troubleshooting/ | cloud or FleetAPI the /tedapi, /cloud, /fleetapi,     |
| problems, errors, /pw/<invalid>     | /fans routes answer the proxy's constant too)         |

Other deliberate differences: an unknown /api/ path answers 404 JSON (the proxy: 200 text
"Not Found"); /api/troubleshooting/problems answers its constant with a query string too
(the proxy then polled the gateway); where the proxy closed the connection (null battery
blocks, non-numeric /pod flags, a null aggregates section in /json) we answer, see
freq_pod.py and aggregates.py.  The jsonformat calls' "null" (None payload) counts as missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from pypowerwall_server.legacy import aggregates as agg
from pypowerwall_server.legacy import passthrough, pw_family, tedapi_routes, vitals
from pypowerwall_server.legacy.csv_route import csv_route, variant_key
from pypowerwall_server.legacy.derivations import make_view
from pypowerwall_server.legacy.freq_pod import freq_route, pod_route
from pypowerwall_server.legacy.not_provided import not_provided_answer
from pypowerwall_server.legacy.responses import NOT_FOUND, RouteResult, Unavailable, json_text
from pypowerwall_server.legacy.view import CallView
from pypowerwall_server.models import GatewayAttributes, LegacyOptions

Handler = Callable[[str, CallView, GatewayAttributes, LegacyOptions], RouteResult]


def _data(fn: Callable[[CallView], RouteResult]) -> Handler:
    return lambda key, view, attributes, options: fn(view)


def _with_options(fn: Callable[[CallView, LegacyOptions], RouteResult]) -> Handler:
    return lambda key, view, attributes, options: fn(view, options)


def _with_attributes(fn: Callable[[str, CallView, GatewayAttributes], RouteResult]) -> Handler:
    return lambda key, view, attributes, options: fn(key, view, attributes)


def _jsonformat(path: str) -> Handler:
    return lambda key, view, attributes, options: vitals.jsonformat_route(path, view)


EXACT: dict[str, Handler] = {
    "/aggregates": _with_options(agg.aggregates_route),
    "/soe": _data(agg.soe_route),
    "/api/system_status/soe": _data(agg.scaled_soe_route),
    **{path: _jsonformat(path) for path in vitals.JSONFORMAT_PATHS},
    "/temps/pw": _data(vitals.temps_pw_route),
    "/alerts/pw": _data(vitals.alerts_pw_route),
    "/freq": _data(freq_route),
    "/pod": _data(pod_route),
    "/json": _with_options(agg.json_route),
    "/version": _data(pw_family.version_route),
    "/fans": lambda key, view, attributes, options: tedapi_routes.fans_route(view, attributes),
}


@dataclass(frozen=True, slots=True)
class Route:
    key: str  # canonical cache key: equal keys give equal answers for one Snapshot
    handler: Handler


@lru_cache(maxsize=1024)  # bounded: request targets come from clients
def resolve(path_and_query: str) -> Route | None:
    """The route for a request target, or None when it is not a legacy read route."""
    path = path_and_query
    if path == "/api/meters/aggregates":
        return Route("/aggregates", EXACT["/aggregates"])
    if path == "/battery":  # not a proxy route; users ask for it: the battery meter section
        return _pw_route("battery")
    if path in EXACT:
        return Route(path, EXACT[path])
    return _prefix_route(path)


def _prefix_route(path: str) -> Route | None:
    if path.startswith("/csv"):
        key = variant_key(path)
        return Route(key, lambda _, view, attributes, options: csv_route(key, view, options))
    for prefix, exact_paths, handler in _PREFIXES:
        if path.startswith(prefix):
            # exact sub-routes keep their path; every other URL under the prefix shares one key
            return Route(path if path in exact_paths else prefix, handler)
    api_path = urlparse(path).path
    if api_path in passthrough.CONSTANTS:
        return Route(api_path, lambda *_: passthrough.constant_route(api_path))
    if api_path in passthrough.PERSONAL:
        return Route(
            api_path,
            lambda _, view, __, options: passthrough.personal_route(api_path, view, options),
        )
    if api_path in passthrough.ALLOWLIST:
        return Route(api_path, lambda _, view, *__: passthrough.poll_route(api_path, view))
    if path.startswith("/fans/pw"):
        return Route(
            "/fans/pw",
            lambda _, view, attributes, __: tedapi_routes.fans_pw_route(view, attributes),
        )
    if path.startswith("/pw/"):
        return _pw_route(path[len("/pw/") :])
    if api_path.startswith("/api/"):
        return Route("/api/<unknown>", lambda *_: NOT_FOUND)
    return None


_PREFIXES: tuple[tuple[str, Mapping[str, str], Handler], ...] = (
    ("/tedapi", tedapi_routes.TEDAPI_CALLS, _with_attributes(tedapi_routes.tedapi_route)),
    ("/cloud", tedapi_routes.CLOUD_CALLS, _with_attributes(tedapi_routes.cloud_route)),
    ("/fleetapi", tedapi_routes.FLEETAPI_CALLS, _with_attributes(tedapi_routes.fleetapi_route)),
)


def _pw_route(fn: str) -> Route:
    if fn not in pw_family.PW_FUNCTIONS:
        return Route("/pw/<invalid>", lambda *_: json_text(pw_family.INVALID))
    return Route("/pw/" + fn, lambda _, view, *__: pw_family.pw_route(fn, view))


def cache_key(path_and_query: str) -> str | None:
    """The key under which a route's body can be encoded once per Snapshot, or None for a
    path that is not a legacy read route."""
    route = resolve(path_and_query)
    return None if route is None else route.key


def render_legacy(
    path_and_query: str,
    calls: Mapping[str, Any],
    attributes: GatewayAttributes,
    options: LegacyOptions,
    absent_polls: Mapping[str, int] | None = None,
) -> RouteResult | None:
    """The proxy's answer for a GET; None = not a legacy read route (the server answers
    404 JSON). Missing data the gateway never provides answers the proxy's empty body
    (not_provided.py); `absent_polls` counts the polls in a row each call gave nothing."""
    route = resolve(path_and_query)
    if route is None:
        return None
    view = make_view(calls)
    result = route.handler(route.key, view, attributes, options)
    if isinstance(result, Unavailable):
        never = not_provided_answer(route.key, view, attributes, absent_polls or {})
        return never or result
    return result
