"""The simulator's admin API: JSON over plain HTTP on a loopback port, guarded by its own
bearer token. Lists gateways, shows a gateway's state, sets and clears faults, changes grid
and operation, and reports request counts and recent requests. Routes: see ROUTES below and
the README's simulator section.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from typing import TYPE_CHECKING, Any, get_args

import orjson

from pypowerwall_server.simulator.faults import FaultError, fault_from_json
from pypowerwall_server.simulator.http11 import HttpConnection
from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.server import GatewayServer
from pypowerwall_server.simulator.state import ExportRule, OperatingMode

if TYPE_CHECKING:
    from pypowerwall_server.simulator.runner import SimulatorCluster


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/gateways"), "list_gateways"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)"), "gateway_state"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)/faults"), "list_faults"),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)/faults"), "add_fault"),
    ("DELETE", re.compile(r"/gateways/(?P<gw>[^/]+)/faults"), "clear_faults"),
    ("DELETE", re.compile(r"/gateways/(?P<gw>[^/]+)/faults/(?P<fault>\d+)"), "clear_fault"),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)/grid"), "set_grid"),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)/operation"), "set_operation"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)/requests"), "requests"),
    ("DELETE", re.compile(r"/gateways/(?P<gw>[^/]+)/requests"), "reset_requests"),
    ("POST", re.compile(r"/faults"), "add_fault_all"),
    ("DELETE", re.compile(r"/faults"), "clear_faults_all"),
    ("GET", re.compile(r"/requests"), "requests_all"),
    ("DELETE", re.compile(r"/requests"), "reset_requests_all"),
]


class AdminApi:
    """Routes requests to handlers; every answer is JSON."""

    def __init__(self, cluster: SimulatorCluster) -> None:
        self.cluster = cluster

    def handle(self, request: SimRequest) -> SimResponse:
        try:
            if request.path == "/health":
                return _json(200, {"ok": True})
            self._authorize(request)
            return _json(200, self._route(request))
        except ApiError as exc:
            headers = (("www-authenticate", "Bearer"),) if exc.status == 401 else ()
            return _json(exc.status, {"error": exc.message}, headers)

    def _authorize(self, request: SimRequest) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = self.cluster.admin_token.encode()
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), expected):
            raise ApiError(401, "missing or wrong bearer token")

    def _route(self, request: SimRequest) -> Any:
        path = request.path.rstrip("/") or "/"
        allowed = False
        for method, pattern, name in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if method == request.method:
                return getattr(self, name)(request, match)
        raise ApiError(
            405 if allowed else 404, "method not allowed" if allowed else "no such route"
        )

    # --- handlers ------------------------------------------------------------------------

    def list_gateways(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"gateways": [_gateway_info(s) for s in self.cluster.servers.values()]}

    def gateway_state(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        return {**_gateway_info(server), "state": _state_summary(server)}

    def list_faults(self, request: SimRequest, match: re.Match[str]) -> Any:
        now = time.monotonic()
        return {"faults": [a.to_json(now) for a in self._server(match).faults.active()]}

    def add_fault(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        fault = _fault(request)
        return {"fault": server.add_fault(fault).to_json(time.monotonic())}

    def clear_faults(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"cleared": self._server(match).clear_faults()}

    def clear_fault(self, request: SimRequest, match: re.Match[str]) -> Any:
        if not self._server(match).remove_fault(int(match["fault"])):
            raise ApiError(404, "no such fault")
        return {"cleared": 1}

    def set_grid(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        up = _body(request).get("up")
        if not isinstance(up, bool):
            raise ApiError(400, 'grid needs {"up": true|false}')
        server.app.set_grid_up(up)
        return {"grid_up": up}

    def set_operation(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        body = _body(request)
        unknown = set(body) - {"mode", "reserve", "grid_charging", "export_rule"}
        if unknown or not body:
            raise ApiError(400, "operation takes mode, reserve, grid_charging, export_rule")
        mode, reserve = _mode(body.get("mode")), _reserve(body.get("reserve"))
        charging, rule = _charging(body.get("grid_charging")), _rule(body.get("export_rule"))
        if mode is not None or reserve is not None:
            server.app.set_operation(mode, reserve)
        if charging is not None:
            server.app.set_grid_charging(charging)
        if rule is not None:
            server.app.set_export_rule(rule)
        return {"state": _state_summary(server)}

    def requests(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        limit = _limit(request.query)
        recent = [r.to_json() for r in server.log.recent(limit)]
        return {**server.log.summary(), "recent": recent}

    def reset_requests(self, request: SimRequest, match: re.Match[str]) -> Any:
        self._server(match).log.reset()
        return {"reset": True}

    def add_fault_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        fault = _fault(request)
        now = time.monotonic()
        return {
            "faults": {
                gid: s.add_fault(fault).to_json(now) for gid, s in self.cluster.servers.items()
            }
        }

    def clear_faults_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"cleared": self.cluster.clear_faults()}

    def requests_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"gateways": {gid: s.log.summary() for gid, s in self.cluster.servers.items()}}

    def reset_requests_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        self.cluster.reset_requests()
        return {"reset": True}

    def _server(self, match: re.Match[str]) -> GatewayServer:
        server = self.cluster.servers.get(match["gw"])
        if server is None:
            raise ApiError(404, f"no gateway {match['gw']!r}")
        return server


class AdminServer:
    """Serves AdminApi on a plain-HTTP loopback port."""

    def __init__(
        self, cluster: SimulatorCluster, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.api = AdminApi(cluster)
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = HttpConnection(reader, writer)
        try:
            while (request := await conn.receive()) is not None:
                await conn.send(self.api.handle(request))
                if not conn.reusable:
                    break
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                conn.abort() if task.cancelled() else await conn.close()


# --- helpers ---------------------------------------------------------------------------------


def _json(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> SimResponse:
    return SimResponse(status, orjson.dumps(data), headers=headers)


def _body(request: SimRequest) -> dict[str, Any]:
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    return data


def _fault(request: SimRequest) -> Any:
    try:
        return fault_from_json(_body(request))
    except FaultError as exc:
        raise ApiError(400, str(exc)) from exc


def _mode(value: object) -> OperatingMode | None:
    if value is None or value in get_args(OperatingMode):
        return value  # type: ignore[return-value]
    raise ApiError(400, f"mode must be one of {', '.join(get_args(OperatingMode))}")


def _reserve(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
        return float(value)
    raise ApiError(400, "reserve must be a number 0-100 (gateway scale)")


def _charging(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ApiError(400, "grid_charging must be true or false")


def _rule(value: object) -> ExportRule | None:
    if value is None or value in get_args(ExportRule):
        return value  # type: ignore[return-value]
    raise ApiError(400, f"export_rule must be one of {', '.join(get_args(ExportRule))}")


def _limit(query: str) -> int | None:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "limit":
            if not value.isdigit():
                raise ApiError(400, "limit must be a non-negative integer")
            return int(value)
    return None


def _gateway_info(server: GatewayServer) -> dict[str, Any]:
    return {
        "id": server.id,
        "host": server.address,
        "port": server.port,
        "listening": server.listening,
        "faults": [a.fault.kind for a in server.faults.active()],
        "wrong_password": server.settings.wrong_password,
        "missing_powerwall": server.settings.missing_powerwall,
    }


def _state_summary(server: GatewayServer) -> dict[str, Any]:
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
