"""/csv… routes: one CSV line of instant powers (W) and battery level (raw %).

Any path starting with /csv is CSV; /csv/v2… adds GridStatus and Reserve; "headers"
anywhere in the path adds the header line.  Missing values print as 0 (as the proxy), except
that missing meter aggregates give Unavailable.  Non-numeric values (the proxy crashed on them)
and non-finite values under %d print as 0.
"""

from __future__ import annotations

import math
from typing import Any

from pypowerwall_server.legacy import env_rules
from pypowerwall_server.legacy.aggregates import NO_AGGREGATES, instant_power, meter_aggregates
from pypowerwall_server.legacy.derived import is_number
from pypowerwall_server.legacy.responses import RouteResult, Unavailable, csv_text
from pypowerwall_server.legacy.view import CallView
from pypowerwall_server.models import LegacyOptions

V1_HEADER = "Grid,Home,Solar,Battery,BatteryLevel\n"
V2_HEADER = "Grid,Home,Solar,Battery,BatteryLevel,GridStatus,Reserve\n"


def variant_key(path: str) -> str:
    """One of the four cache keys: /csv, /csv_headers, /csv/v2, /csv/v2_headers."""
    base = "/csv/v2" if path.startswith("/csv/v2") else "/csv"
    return base + ("_headers" if "headers" in path else "")


def number_or_zero(value: Any) -> Any:
    """The proxy's `value or 0`, with non-numbers as 0 too."""
    return (value or 0) if is_number(value) else 0


def format_float(value: Any) -> str:
    """%0.2f: correctly rounded; a small negative value prints -0.00."""
    return "%0.2f" % number_or_zero(value)  # noqa: UP031 - the proxy's exact format


def format_int(value: Any) -> str:
    """%d: truncates a float towards zero; NaN/inf (which %d cannot print) give 0."""
    number = number_or_zero(value)
    if isinstance(number, float) and not math.isfinite(number):
        number = 0
    return "%d" % number  # noqa: UP031 - %d truncates floats, str.format rejects them


def csv_route(key: str, view: CallView, options: LegacyOptions) -> RouteResult:
    aggregates = meter_aggregates(view)
    if aggregates is None:
        return Unavailable(NO_AGGREGATES, plain_text=True)
    grid, home, solar, battery = (
        number_or_zero(instant_power(aggregates, name))
        for name in ("site", "load", "solar", "battery")
    )
    solar, home = env_rules.move_negative_solar(solar, home, options)
    grid = env_rules.zero_small_site(grid, options)
    fields = [format_float(v) for v in (grid, home, solar, battery, view.get("level()"))]
    if key.startswith("/csv/v2"):
        fields.append(format_int(int(view.get("grid_status('string')") == "UP")))
        fields.append(format_int(view.get("get_reserve()")))
    header = (V2_HEADER if key.startswith("/csv/v2") else V1_HEADER) if "headers" in key else ""
    return csv_text(header + ",".join(fields) + "\n")
