"""/pw/<fn> (compact JSON of one library call, some wrapped in a one-key object) and
/version.

Unavailable rule: a wrapped value answers Unavailable only when the gateway answer it comes from is
missing (e.g. /api/status for /pw/uptime); a null inside a present answer stays null (TEDAPI
has no uptime).  A direct value answers Unavailable when it is None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pypowerwall_server.legacy import derived as d
from pypowerwall_server.legacy.aggregates import meter_aggregates
from pypowerwall_server.legacy.responses import RouteResult, Unavailable, json_body
from pypowerwall_server.legacy.view import CallView


@dataclass(frozen=True, slots=True)
class PwFunction:
    call: str  # the library call whose value is answered
    wrapper: str | None = None  # one-key object {"<wrapper>": value}, or the value itself
    source: str | None = None  # wrapped: the gateway answer whose absence means Unavailable
    needs_aggregates: bool = False  # missing/empty aggregates = Unavailable (power() gives zeros)


_SECTIONS = {
    fn: f"{fn}(verbose=True)" for fn in ("site", "solar", "battery", "load", "grid", "home")
}
PW_FUNCTIONS: dict[str, PwFunction] = {
    "level": PwFunction("level()", "level", d.SOE),
    "power": PwFunction("power()", needs_aggregates=True),
    **{fn: PwFunction(call) for fn, call in _SECTIONS.items()},
    "battery_blocks": PwFunction("battery_blocks()"),
    "vitals": PwFunction("vitals()"),
    "temps": PwFunction("temps()"),
    "strings": PwFunction("strings(verbose=True)"),
    "din": PwFunction("din()", "din", d.STATUS),
    "uptime": PwFunction("uptime()", "uptime", d.STATUS),
    "version": PwFunction("version()", "version", d.STATUS),
    "status": PwFunction("status()"),
    "system_status": PwFunction("system_status()"),
    "grid_status": PwFunction("grid_status('json')"),
    "aggregates": PwFunction(d.AGGREGATES, needs_aggregates=True),
    "site_name": PwFunction("site_name()", "site_name", d.SITE_NAME),
    "alerts": PwFunction("alerts()", "alerts", "alerts()"),
    "is_connected": PwFunction("is_connected()", "is_connected", "is_connected()"),
    "get_reserve": PwFunction("get_reserve()", "reserve", d.OPERATION),
    "get_mode": PwFunction("get_mode()", "mode", d.OPERATION),
    "get_time_remaining": PwFunction(
        "get_time_remaining()", "time_remaining", "get_time_remaining()"
    ),
}
INVALID = '{"error": "Invalid Request"}'


def pw_route(fn: str, view: CallView) -> RouteResult:
    spec = PW_FUNCTIONS[fn]
    if spec.needs_aggregates and meter_aggregates(view) is None:
        return Unavailable("no meter aggregates yet")
    if spec.wrapper is not None and spec.source is not None:
        if view.get(spec.source) is None:
            return Unavailable(f"no data for /pw/{fn} yet")
        return json_body({spec.wrapper: view.get(spec.call)})
    value = view.get(spec.call)
    if value is None:
        return Unavailable(f"no data for /pw/{fn} yet")
    if fn == "grid_status":  # the library's indent-4 string, re-serialized compact
        try:
            value = json.loads(value)
        except ValueError:
            return Unavailable("unreadable grid status")
    return json_body(value)


def version_route(view: CallView) -> RouteResult:
    """{"version": v, "vint": parse_version(v)}; Unavailable when there is no version (the proxy
    invented {"version": "SolarOnly", "vint": 0})."""
    version = view.get("version()")
    if version is None:
        return Unavailable("no firmware version yet")
    return json_body({"version": version, "vint": view.get("parse_version(version())")})
