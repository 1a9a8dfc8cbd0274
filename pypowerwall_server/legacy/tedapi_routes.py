"""/tedapi…, /fans, /fans/pw…, /cloud… and /fleetapi…: routes that depend on the
connection kind (GatewayAttributes) more than on data."""

from __future__ import annotations

from typing import Any

from pypowerwall_server.legacy.responses import RouteResult, Unavailable, json_body, json_text
from pypowerwall_server.legacy.view import CallView
from pypowerwall_server.models import GatewayAttributes

TEDAPI_CALLS = {
    "/tedapi/config": "tedapi.get_config()",
    "/tedapi/status": "tedapi.get_status()",
    "/tedapi/components": "tedapi.get_components()",
    "/tedapi/battery": "tedapi.get_battery_blocks()",
    "/tedapi/controller": "tedapi.get_device_controller()",
}
# Only in cloud / FleetAPI mode; the poller does not fetch these (yet), so they answer Unavailable.
CLOUD_CALLS = {
    "/cloud/battery": "client.get_battery()",
    "/cloud/power": "client.get_site_power()",
    "/cloud/config": "client.get_site_config()",
}
FLEETAPI_CALLS = {
    "/fleetapi/info": "client.get_site_info()",
    "/fleetapi/status": "client.get_live_status()",
}
FAN_SPEEDS = "tedapi.get_fan_speeds()"


def _error(message: str) -> RouteResult:
    return json_body({"error": message})


def _call_route(view: CallView, name: str) -> RouteResult:
    value = view.get(name)
    return Unavailable(f"no answer from {name} yet") if value is None else json_body(value)


def tedapi_route(key: str, view: CallView, attributes: GatewayAttributes) -> RouteResult:
    if not attributes.tedapi:
        return _error("TEDAPI not enabled")
    if key in TEDAPI_CALLS:
        return _call_route(view, TEDAPI_CALLS[key])
    return _error("Use " + ", ".join(TEDAPI_CALLS))


def cloud_route(key: str, view: CallView, attributes: GatewayAttributes) -> RouteResult:
    if not attributes.cloudmode or attributes.fleetapi:
        return _error("Cloud API not enabled")
    if key in CLOUD_CALLS:
        return _call_route(view, CLOUD_CALLS[key])
    return _error("Use " + ", ".join(CLOUD_CALLS))


def fleetapi_route(key: str, view: CallView, attributes: GatewayAttributes) -> RouteResult:
    if not attributes.fleetapi:
        return _error("FleetAPI not enabled")
    if key in FLEETAPI_CALLS:
        return _call_route(view, FLEETAPI_CALLS[key])
    return _error("Use " + ", ".join(FLEETAPI_CALLS))


def fans_route(view: CallView, attributes: GatewayAttributes) -> RouteResult:
    """The raw fan speed dict; `{}` without TEDAPI."""
    if not attributes.tedapi:
        return json_text("{}")
    return _call_route(view, FAN_SPEEDS)


def fans_pw_route(view: CallView, attributes: GatewayAttributes) -> RouteResult:
    """FANn_actual / FANn_target, numbered in device-key order; PW3-style entries (no
    PVAC_* signals) give nulls."""
    if not attributes.tedapi:
        return json_text("{}")
    speeds = view.get(FAN_SPEEDS)
    if speeds is None:
        return Unavailable("no fan speeds yet")
    result: dict[str, Any] = {}
    items = (
        sorted(speeds.items(), key=lambda item: str(item[0])) if isinstance(speeds, dict) else []
    )
    for n, (_, value) in enumerate(items, start=1):
        signals = value if isinstance(value, dict) else {}
        result[f"FAN{n}_actual"] = signals.get("PVAC_Fan_Speed_Actual_RPM")
        result[f"FAN{n}_target"] = signals.get("PVAC_Fan_Speed_Target_RPM")
    return json_body(result)
