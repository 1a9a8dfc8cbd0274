"""The simulator's admin API: JSON over plain HTTP on a loopback port, guarded by its own
bearer token. Lists gateways, shows a gateway's state and settings, sets and clears faults,
changes grid and operation, registers v1r keys, hands out Fleet API configs, and reports
request counts and recent requests (per gateway and for the Fleet API). Routes: see ROUTES
below and docs/simulator.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from typing import Any, Protocol

from pypowerwall_server.simulator.admin_views import (
    ApiError,
    gateway_info,
    json_body,
    json_response,
    parse_charging,
    parse_fault,
    parse_limit,
    parse_mode,
    parse_reserve,
    parse_rule,
    settings_summary,
    state_summary,
)
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import APP_KINDS, FaultError
from pypowerwall_server.simulator.fleet_api import SimulatedFleetApi
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.http11 import HttpConnection
from pypowerwall_server.simulator.interface import SimRequest, SimResponse
from pypowerwall_server.simulator.server import GatewayServer, SiteServer
from pypowerwall_server.simulator.v1r_auth import BadKey


class SimulatorCluster(Protocol):
    """What the admin API reads and drives of the running simulator (runner.py's cluster;
    named here so the runner, which starts the admin server, is not imported back)."""

    admin_token: str
    configs: list[SiteConfig]
    servers: dict[str, SiteServer]
    wifi_servers: dict[str, SiteServer]
    fleet_api: GatewayServer[SimulatedFleetApi] | None
    ca_pem: bytes | None

    @property
    def fleet_api_url(self) -> str | None: ...

    def fleetapi_config(self, gateway_id: str) -> dict[str, Any]: ...

    def clear_faults(
        self, gateway_id: str | None = None, fault_id: int | None = None, *, wifi: bool = False
    ) -> int: ...

    def reset_requests(self, gateway_id: str | None = None) -> None: ...


ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/gateways"), "list_gateways"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)"), "gateway_state"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)(?P<wifi>/wifi)?/faults"), "list_faults"),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)(?P<wifi>/wifi)?/faults"), "add_fault"),
    ("DELETE", re.compile(r"/gateways/(?P<gw>[^/]+)(?P<wifi>/wifi)?/faults"), "clear_faults"),
    (
        "DELETE",
        re.compile(r"/gateways/(?P<gw>[^/]+)(?P<wifi>/wifi)?/faults/(?P<fault>\d+)"),
        "clear_fault",
    ),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)/grid"), "set_grid"),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)/operation"), "set_operation"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)/settings"), "site_settings"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)/v1r/keys"), "list_v1r_keys"),
    ("POST", re.compile(r"/gateways/(?P<gw>[^/]+)/v1r/keys"), "add_v1r_key"),
    (
        "DELETE",
        re.compile(r"/gateways/(?P<gw>[^/]+)/v1r/keys/(?P<key>[0-9a-f]{64})"),
        "remove_v1r_key",
    ),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)/fleetapi_config"), "fleetapi_config"),
    ("GET", re.compile(r"/gateways/(?P<gw>[^/]+)(?P<wifi>/wifi)?/requests"), "requests"),
    ("DELETE", re.compile(r"/gateways/(?P<gw>[^/]+)(?P<wifi>/wifi)?/requests"), "reset_requests"),
    ("POST", re.compile(r"/faults"), "add_fault_all"),
    ("DELETE", re.compile(r"/faults"), "clear_faults_all"),
    ("GET", re.compile(r"/fleetapi"), "fleet_api"),
    ("POST", re.compile(r"/fleetapi/faults"), "add_fleet_api_fault"),
    ("DELETE", re.compile(r"/fleetapi/faults"), "clear_fleet_api_faults"),
    ("GET", re.compile(r"/fleetapi/requests"), "fleet_api_requests"),
    ("DELETE", re.compile(r"/fleetapi/requests"), "reset_fleet_api_requests"),
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
                return json_response(200, {"ok": True})
            self._authorize(request)
            return json_response(200, self._route(request))
        except ApiError as exc:
            headers = (("www-authenticate", "Bearer"),) if exc.status == 401 else ()
            return json_response(exc.status, {"error": exc.message}, headers)

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
        wifi = self.cluster.wifi_servers
        return {
            "gateways": [gateway_info(s, wifi.get(gid)) for gid, s in self.cluster.servers.items()]
        }

    def gateway_state(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        wifi = self.cluster.wifi_servers.get(server.id)
        return {**gateway_info(server, wifi), "state": state_summary(server)}

    def list_faults(self, request: SimRequest, match: re.Match[str]) -> Any:
        now = time.monotonic()
        return {"faults": [a.to_json(now) for a in self._server(match).faults.active()]}

    def add_fault(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        fault = parse_fault(request)
        try:
            return {"fault": server.add_fault(fault).to_json(time.monotonic())}
        except FaultError as exc:  # a site fault on a Wi-Fi port
            raise ApiError(400, str(exc)) from exc

    def clear_faults(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"cleared": self._server(match).clear_faults()}

    def clear_fault(self, request: SimRequest, match: re.Match[str]) -> Any:
        if not self._server(match).remove_fault(int(match["fault"])):
            raise ApiError(404, "no such fault")
        return {"cleared": 1}

    def set_grid(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        up = json_body(request).get("up")
        if not isinstance(up, bool):
            raise ApiError(400, 'grid needs {"up": true|false}')
        server.app.set_grid_up(up)
        return {"grid_up": up}

    def set_operation(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        body = json_body(request)
        unknown = set(body) - {"mode", "reserve", "grid_charging", "export_rule"}
        if unknown or not body:
            raise ApiError(400, "operation takes mode, reserve, grid_charging, export_rule")
        mode = parse_mode(body.get("mode"))
        reserve = parse_reserve(body.get("reserve"))
        charging = parse_charging(body.get("grid_charging"))
        rule = parse_rule(body.get("export_rule"))
        if mode is not None or reserve is not None:
            server.app.set_operation(mode, reserve)
        if charging is not None:
            server.app.set_grid_charging(charging)
        if rule is not None:
            server.app.set_export_rule(rule)
        return {"state": state_summary(server)}

    def site_settings(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"settings": settings_summary(self._server(match).app)}

    def list_v1r_keys(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"keys": [k.to_json() for k in self._v1r(match).v1r_keys.registered()]}

    def add_v1r_key(self, request: SimRequest, match: re.Match[str]) -> Any:
        gateway = self._v1r(match)
        body = json_body(request)
        pem, verified = body.get("public_key"), body.get("verified", True)
        if not isinstance(pem, str) or not isinstance(verified, bool):
            raise ApiError(400, 'v1r/keys takes {"public_key": PEM, "verified": true|false}')
        try:
            key = gateway.register_v1r_key(pem, verified=verified)
        except BadKey as exc:
            raise ApiError(400, str(exc)) from exc
        return {"key": key.to_json()}

    def remove_v1r_key(self, request: SimRequest, match: re.Match[str]) -> Any:
        if not self._v1r(match).v1r_keys.remove(match["key"]):
            raise ApiError(404, "no such key")
        return {"removed": 1}

    def fleetapi_config(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        self._fleet()
        return self.cluster.fleetapi_config(server.id)

    def fleet_api(self, request: SimRequest, match: re.Match[str]) -> Any:
        fleet = self._fleet()
        ca = self.cluster.ca_pem
        return {
            "url": self.cluster.fleet_api_url,
            "site_ids": {c.gateway_id: c.energy_site_id for c in self.cluster.configs},
            "faults": [a.fault.kind for a in fleet.faults.active()],
            "ca_pem": None if ca is None else ca.decode(),
        }

    def add_fleet_api_fault(self, request: SimRequest, match: re.Match[str]) -> Any:
        fault = parse_fault(request)
        if fault.kind in APP_KINDS:
            raise ApiError(400, f"{fault.kind} is a site fault: set it on a gateway")
        return {"fault": self._fleet().add_fault(fault).to_json(time.monotonic())}

    def clear_fleet_api_faults(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"cleared": self._fleet().clear_faults()}

    def fleet_api_requests(self, request: SimRequest, match: re.Match[str]) -> Any:
        fleet = self._fleet()
        recent = [r.to_json() for r in fleet.log.recent(parse_limit(request.query))]
        return {**fleet.log.summary(), "recent": recent}

    def reset_fleet_api_requests(self, request: SimRequest, match: re.Match[str]) -> Any:
        self._fleet().log.reset()
        return {"reset": True}

    def requests(self, request: SimRequest, match: re.Match[str]) -> Any:
        server = self._server(match)
        limit = parse_limit(request.query)
        recent = [r.to_json() for r in server.log.recent(limit)]
        return {**server.log.summary(), "recent": recent}

    def reset_requests(self, request: SimRequest, match: re.Match[str]) -> Any:
        self._server(match).log.reset()
        return {"reset": True}

    def add_fault_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        fault = parse_fault(request)
        now = time.monotonic()
        return {
            "faults": {
                gid: s.add_fault(fault).to_json(now) for gid, s in self.cluster.servers.items()
            }
        }

    def clear_faults_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        return {"cleared": self.cluster.clear_faults()}

    def requests_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        answer: dict[str, Any] = {
            "gateways": {gid: s.log.summary() for gid, s in self.cluster.servers.items()}
        }
        if self.cluster.fleet_api is not None:
            answer["fleetapi"] = self.cluster.fleet_api.log.summary()
        return answer

    def reset_requests_all(self, request: SimRequest, match: re.Match[str]) -> Any:
        self.cluster.reset_requests()
        return {"reset": True}

    def _v1r(self, match: re.Match[str]) -> SimulatedGateway:
        app = self._server(match).app
        if not isinstance(app, SimulatedGateway):
            raise ApiError(409, "this gateway does not speak v1r")
        return app

    def _fleet(self) -> GatewayServer[SimulatedFleetApi]:
        if self.cluster.fleet_api is None:
            raise ApiError(409, "the simulated Fleet API is off (simulate --fleet-api)")
        return self.cluster.fleet_api

    def _server(self, match: re.Match[str]) -> SiteServer:
        """The gateway's port, or its Wi-Fi port for paths with /wifi."""
        server = self.cluster.servers.get(match["gw"])
        if server is None:
            raise ApiError(404, f"no gateway {match['gw']!r}")
        if match.groupdict().get("wifi"):
            wifi = self.cluster.wifi_servers.get(match["gw"])
            if wifi is None:
                raise ApiError(404, f"gateway {match['gw']!r} has no Wi-Fi port")
            return wifi
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
