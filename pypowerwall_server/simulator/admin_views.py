"""Input parsing and output shaping for the simulator's admin API (pure functions)."""

from __future__ import annotations

from typing import Any, get_args

import orjson

from pypowerwall_server.simulator.faults import Fault, FaultError, fault_from_json
from pypowerwall_server.simulator.fleet_api_views import app_percent
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.interface import SimRequest, SimResponse, SimulatedGatewayApp
from pypowerwall_server.simulator.server import SiteServer
from pypowerwall_server.simulator.state import ExportRule, OperatingMode


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> SimResponse:
    return SimResponse(status, orjson.dumps(data), headers=headers)


def json_body(request: SimRequest) -> dict[str, Any]:
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    return data


def parse_fault(request: SimRequest) -> Fault:
    try:
        return fault_from_json(json_body(request))
    except FaultError as exc:
        raise ApiError(400, str(exc)) from exc


def parse_mode(value: object) -> OperatingMode | None:
    if value is None or value in get_args(OperatingMode):
        return value  # type: ignore[return-value]
    raise ApiError(400, f"mode must be one of {', '.join(get_args(OperatingMode))}")


def parse_reserve(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
        return float(value)
    raise ApiError(400, "reserve must be a number 0-100 (gateway scale)")


def parse_charging(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ApiError(400, "grid_charging must be true or false")


def parse_rule(value: object) -> ExportRule | None:
    if value is None or value in get_args(ExportRule):
        return value  # type: ignore[return-value]
    raise ApiError(400, f"export_rule must be one of {', '.join(get_args(ExportRule))}")


def parse_limit(query: str) -> int | None:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "limit":
            if not value.isdigit():
                raise ApiError(400, "limit must be a non-negative integer")
            return int(value)
    return None


def gateway_info(server: SiteServer, wifi: SiteServer | None = None) -> dict[str, Any]:
    return {
        "id": server.id,
        "host": server.address,
        "port": server.port,
        "listening": server.listening,
        "faults": [a.fault.kind for a in server.faults.active()],
        "wrong_password": server.settings.wrong_password,
        "missing_powerwall": server.settings.missing_powerwall,
        **({} if wifi is None else {"wifi_host": wifi.address, "wifi_listening": wifi.listening}),
    }


def settings_summary(app: SimulatedGatewayApp) -> dict[str, Any]:
    """The site's own settings as the simulator holds them (what a write changed)."""
    state = app.state()
    summary: dict[str, Any] = {
        "operating_mode": state.operating_mode,
        "backup_reserve_raw_percent": state.backup_reserve_raw_percent,
        "backup_reserve_percent": app_percent(state.backup_reserve_raw_percent),
        "grid_charging": state.grid_charging,
        "export_rule": state.export_rule,
        "off_grid": not state.grid_up,
        "grid_status": state.grid_status,
        "soe_raw_percent": state.soe_raw_percent,
        "battery_power_w": state.battery.instant_power_w,
        "manual_backup": None,
    }
    if isinstance(app, SimulatedGateway) and (event := app.manual_backup()) is not None:
        summary["manual_backup"] = {
            "start_time": event.start_time,
            "duration_seconds": event.duration_seconds,
            "active": app.manual_backup_active(),
        }
    return summary


def state_summary(server: SiteServer) -> dict[str, Any]:
    state = server.app.state()
    return {
        "sim_time": state.sim_time,
        "din": state.gateway_din,
        "site_name": state.site_name,
        "firmware_version": state.firmware_version,
        "grid_up": state.grid_up,
        "grid_status": state.grid_status,
        "operating_mode": state.operating_mode,
        "backup_reserve_raw_percent": state.backup_reserve_raw_percent,
        "grid_charging": state.grid_charging,
        "export_rule": state.export_rule,
        "soe_raw_percent": state.soe_raw_percent,
        "power_w": {
            "site": state.site.instant_power_w,
            "battery": state.battery.instant_power_w,
            "load": state.load.instant_power_w,
            "solar": state.solar.instant_power_w,
        },
        "powerwalls": len(state.powerwalls),
        "missing_powerwall_serials": sorted(state.missing_powerwall_serials),
        "alerts": list(state.alerts),
    }
