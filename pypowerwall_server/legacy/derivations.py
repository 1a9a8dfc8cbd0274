"""The table of derived calls (name -> how to compute it from polled calls) and the
CallView factory the routes use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pypowerwall_server.legacy import derived as d
from pypowerwall_server.legacy import derived_vitals as dv
from pypowerwall_server.legacy.view import CallView, Derivation


def _section(name: str) -> Derivation:
    return lambda view: d.section(view, name)


def _sections() -> dict[str, Derivation]:
    names = {"site": "site", "solar": "solar", "battery": "battery", "load": "load"}
    names |= {"grid": "site", "home": "load"}
    return {f"{fn}(verbose=True)": _section(name) for fn, name in names.items()}


DERIVATIONS: dict[str, Derivation] = {
    "level()": lambda view: d.level(view),
    "level(scale=True)": lambda view: d.level(view, scale=True),
    "power()": d.power,
    **_sections(),
    "grid_status('string')": lambda view: d.grid_status(view, "string"),
    "grid_status('numeric')": lambda view: d.grid_status(view, "numeric"),
    "grid_status('json')": lambda view: d.grid_status(view, "json"),
    "get_reserve()": d.get_reserve,
    "get_mode()": d.get_mode,
    "system_status()": lambda view: view.get(d.SYSTEM_STATUS),
    "status()": lambda view: view.get(d.STATUS),
    "version()": lambda view: d.status_field(view, "version"),
    "din()": lambda view: d.status_field(view, "din"),
    "uptime()": lambda view: d.status_field(view, "up_time_seconds"),
    "parse_version(version())": lambda view: d.parse_version(view.get("version()")),
    "is_connected()": d.is_connected,
    "site_name()": d.site_name,
    "strings()": lambda view: dv.strings(view, verbose=False),
    "strings(verbose=True)": lambda view: dv.strings(view, verbose=True),
    "temps()": dv.temps,
    "alerts()": dv.alerts,
    "battery_blocks()": dv.battery_blocks,
}


def make_view(calls: Mapping[str, Any]) -> CallView:
    return CallView(calls, DERIVATIONS)
