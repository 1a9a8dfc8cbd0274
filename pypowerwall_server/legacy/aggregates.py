"""/aggregates (= /api/meters/aggregates), /soe, /api/system_status/soe and /json.

/json differs from the proxy where the proxy closed the connection: a section that is null
(e.g. `"site": null`) or a non-numeric instant_power counts as a missing power, i.e. 0 (as
/csv does); a negative solar with a missing load zeroes solar and leaves the load at 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pypowerwall_server.legacy import env_rules
from pypowerwall_server.legacy.derived import AGGREGATES, is_number
from pypowerwall_server.legacy.responses import RouteResult, Unavailable, json_body, json_text
from pypowerwall_server.legacy.view import CallView
from pypowerwall_server.models import LegacyOptions

AGGREGATES_JSON = "poll('/api/meters/aggregates', jsonformat=True)"
SOE_JSON = "poll('/api/system_status/soe', jsonformat=True)"
NO_AGGREGATES = "no meter aggregates yet"


def aggregates_route(view: CallView, options: LegacyOptions) -> RouteResult:
    """The library string, parsed (a fresh copy), env rules applied, re-serialized."""
    parsed = _parse(view.text(AGGREGATES_JSON))
    if not parsed:
        return Unavailable(NO_AGGREGATES)
    if isinstance(parsed, dict):
        env_rules.apply_to_aggregates(parsed, options)
    return json_body(parsed)


def _parse(text: str | None) -> Any:
    try:
        return None if text is None else json.loads(text)
    except ValueError:
        return None


def soe_route(view: CallView) -> RouteResult:
    """Raw gateway percentage, verbatim."""
    text = view.text(SOE_JSON)
    return Unavailable("no state of energy yet") if text is None else json_text(text)


def scaled_soe_route(view: CallView) -> RouteResult:
    """App-scaled percentage (can be negative below 5 % raw)."""
    level = view.get("level(scale=True)")
    if level is None:
        return Unavailable("no state of energy yet")
    return json_body({"percentage": level})


def meter_aggregates(view: CallView) -> dict[str, Any] | None:
    """The plain aggregates dict, or None when missing/empty/not a dict (primary data)."""
    payload = view.get(AGGREGATES)
    return payload if isinstance(payload, dict) and payload else None


def instant_power(aggregates: Mapping[str, Any], section: str) -> Any:
    """A section's instant_power when it is a number, else None (the section missing or
    null: the proxy crashed on a null section in /json). Shared with gateway/readings.py."""
    block = aggregates.get(section)
    value = block.get("instant_power") if isinstance(block, Mapping) else None
    return value if is_number(value) else None


def json_route(view: CallView, options: LegacyOptions) -> RouteResult:
    aggregates = meter_aggregates(view)
    if aggregates is None:
        return Unavailable(NO_AGGREGATES)
    grid, home, solar, battery = (
        instant_power(aggregates, name) for name in ("site", "load", "solar", "battery")
    )
    solar, home = env_rules.move_negative_solar(solar, home, options)
    grid = env_rules.zero_small_site(grid, options)
    status = view.get("system_status()")
    status = status if isinstance(status, dict) else {}
    return json_body(
        {
            "grid": grid or 0,
            "home": home or 0,
            "solar": solar or 0,
            "battery": battery or 0,
            "soe": view.get("level()") or 0,
            "grid_status": int(view.get("grid_status('string')") == "UP"),
            "reserve": view.get("get_reserve()") or 0,
            "time_remaining_hours": view.get("get_time_remaining()") or 0,
            "full_pack_energy": status.get("nominal_full_pack_energy") or 0,
            "energy_remaining": status.get("nominal_energy_remaining") or 0,
            "strings": view.get("strings()") or {},
        }
    )
