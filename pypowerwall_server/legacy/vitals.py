"""/vitals, /strings, /temps, /temps/pw, /alerts, /alerts/pw.

/vitals, /strings, /temps and /alerts are the library's jsonformat strings verbatim
(indent 4, sorted keys).  Each answers Unavailable when its call gave nothing (the proxy said
`null`, `{}`, `[]` or `TIMEOUT!`).
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.responses import RouteResult, Unavailable, json_body, json_text
from pypowerwall_server.legacy.view import CallView

_JSONFORMAT = {
    "/vitals": ("vitals(jsonformat=True)", "no vitals yet"),
    "/strings": ("strings(jsonformat=True)", "no string data yet"),
    "/temps": ("temps(jsonformat=True)", "no temperatures yet"),
    "/alerts": ("alerts(jsonformat=True)", "no alerts data yet"),
}
JSONFORMAT_PATHS = frozenset(_JSONFORMAT)


def jsonformat_route(path: str, view: CallView) -> RouteResult:
    name, reason = _JSONFORMAT[path]
    text = view.text(name)
    return Unavailable(reason) if text is None else json_text(text)


def temps_pw_route(view: CallView) -> RouteResult:
    """{"PW1_temp": ..., "PW2_temp": ...} in temps() order (= vitals device order)."""
    temps = view.get("temps()")
    if temps is None:
        return Unavailable("no temperatures yet")
    values = list(temps.values()) if isinstance(temps, dict) else []
    return json_body({f"PW{n}_temp": value for n, value in enumerate(values, start=1)})


def alerts_pw_route(view: CallView) -> RouteResult:
    """{"<alert>": 1, ...}; alerts that cannot be JSON keys are left out."""
    alerts = view.get("alerts()")
    if alerts is None:
        return Unavailable("no alerts data yet")
    names: list[Any] = alerts if isinstance(alerts, list) else []
    return json_body({name: 1 for name in names if isinstance(name, str)})
