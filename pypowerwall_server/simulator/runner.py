"""Run many simulated gateways in one process.

`SimulatorCluster` runs inside an existing event loop (`async with SimulatorCluster(...)`,
as the server's --demo does). `running_simulator(...)` runs one in a background thread with
its own loop, for tests and benchmarks that drive the real, blocking pypowerwall.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from pypowerwall_server.simulator.faults import APP_KINDS, Fault
from pypowerwall_server.simulator.fleet_api import (
    FLEET_API_ID,
    FleetSite,
    SimulatedFleetApi,
    fleetapi_config,
)
from pypowerwall_server.simulator.interface import SimulatedGatewayApp
from pypowerwall_server.simulator.observe import RequestRecord
from pypowerwall_server.simulator.server import GatewayServer, SiteServer
from pypowerwall_server.simulator.tls import server_context_and_ca

if TYPE_CHECKING:
    from pypowerwall_server.simulator.admin import AdminServer
    from pypowerwall_server.simulator.config import SiteConfig

AppFactory = Callable[["SiteConfig"], SimulatedGatewayApp]
T = TypeVar("T")
THREAD_CALL_TIMEOUT_S = 60.0


class UnknownGateway(KeyError):
    """No simulated gateway has this id."""


@dataclass(frozen=True, slots=True)
class RunningGateway:
    id: str
    host: str  # "127.0.0.1:PORT", as our server's gateway config wants it
    port: int
    app: SimulatedGatewayApp
    config: SiteConfig
    wifi_host: str | None = None  # the same gateway's Wi-Fi access point (wifi=True)


def default_app_factory(config: SiteConfig) -> SimulatedGatewayApp:
    """The real simulated gateway (imported late: it loads the protobuf modules)."""
    gateway = importlib.import_module("pypowerwall_server.simulator.gateway")
    app: SimulatedGatewayApp = gateway.SimulatedGateway(config, clock=time.time)
    return app


class SimulatorCluster:
    """Every gateway's HTTPS port plus the admin API, on the running event loop."""

    def __init__(
        self,
        configs: Sequence[SiteConfig],
        *,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        admin: bool = True,
        admin_port: int = 0,
        admin_token: str | None = None,
        cert_path: str | Path | None = None,
        key_path: str | Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
        app_factory: AppFactory = default_app_factory,
        ring_size: int = 1000,
        fleet_api: bool = False,
        fleet_api_port: int = 0,
        fleet_api_token: str | None = None,
        wifi: bool = False,
    ) -> None:
        ids = [c.gateway_id for c in configs]
        if len(set(ids)) != len(ids):
            raise ValueError("gateway ids must be unique")
        self.configs = list(configs)
        self.host = host
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.servers: dict[str, SiteServer] = {}
        self.gateways: list[RunningGateway] = []
        self._base_port = base_port
        self._admin_wanted = admin
        self._admin_port = admin_port
        self._admin: AdminServer | None = None
        self._tls = (cert_path, key_path, ssl_context)
        self._app_factory = app_factory
        self._ring_size = ring_size
        self._fleet_wanted = fleet_api
        self._fleet_port = fleet_api_port
        self._fleet_token = fleet_api_token
        self.fleet_api: GatewayServer[SimulatedFleetApi] | None = None
        self.ca_pem: bytes | None = None  # the CA that signed the generated certificate
        self._wifi_wanted = wifi
        # A second port per gateway, the same site: its Wi-Fi access point (a Powerwall 3
        # is read over the wired LAN with v1r and over Wi-Fi with TEDAPI as a fallback).
        self.wifi_servers: dict[str, SiteServer] = {}

    @property
    def admin_url(self) -> str | None:
        return None if self._admin is None else self._admin.url

    @property
    def fleet_api_url(self) -> str | None:
        """The AUDIENCE for pypowerwall's FleetAPI config (None: Fleet API off)."""
        return None if self.fleet_api is None else f"https://{self.fleet_api.address}"

    async def __aenter__(self) -> SimulatorCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        cert_path, key_path, context = self._tls
        if context is None:
            context, self.ca_pem = server_context_and_ca(cert_path, key_path)
        for i, config in enumerate(self.configs):
            port = 0 if self._base_port is None else self._base_port + i
            app = self._app_factory(config)
            server = GatewayServer(
                config.gateway_id,
                app,
                context,
                host=self.host,
                port=port,
                ring_size=self._ring_size,
            )
            self.servers[config.gateway_id] = server
            if self._wifi_wanted:
                self.wifi_servers[config.gateway_id] = GatewayServer(
                    config.gateway_id,
                    app,
                    context,
                    host=self.host,
                    ring_size=self._ring_size,
                    site_faults=False,
                )
        if self._fleet_wanted:
            self.fleet_api = self._fleet_server(context)
        try:
            await asyncio.gather(*(s.start() for s in self.servers.values()))
            await asyncio.gather(*(s.start() for s in self.wifi_servers.values()))
            if self.fleet_api is not None:
                await self.fleet_api.start()
            if self._admin_wanted:
                await self._start_admin()
        except BaseException:
            await self.stop()
            raise
        self.gateways = [
            RunningGateway(c.gateway_id, s.address, s.port, s.app, c, self._wifi_host(c))
            for c, s in zip(self.configs, self.servers.values(), strict=True)
        ]

    def _wifi_host(self, config: SiteConfig) -> str | None:
        wifi = self.wifi_servers.get(config.gateway_id)
        return None if wifi is None else wifi.address

    def _fleet_server(self, context: ssl.SSLContext) -> GatewayServer[SimulatedFleetApi]:
        sites = [
            FleetSite(c, s.app, getattr(s.app, "manual_backup_active", lambda: False))
            for c, s in zip(self.configs, self.servers.values(), strict=True)
        ]
        cloud = SimulatedFleetApi(sites, self._fleet_token)
        return GatewayServer(
            FLEET_API_ID,
            cloud,
            context,
            host=self.host,
            port=self._fleet_port,
            ring_size=self._ring_size,
        )

    async def _start_admin(self) -> None:
        from pypowerwall_server.simulator.admin import AdminServer

        self._admin = AdminServer(self, host=self.host, port=self._admin_port)
        await self._admin.start()

    async def stop(self) -> None:
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        servers: list[GatewayServer[Any]] = [*self.servers.values(), *self.wifi_servers.values()]
        if self.fleet_api is not None:
            servers.append(self.fleet_api)
        await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)

    # --- Python API (call on the cluster's event loop) -----------------------------------

    def server(self, gateway_id: str) -> SiteServer:
        try:
            return self.servers[gateway_id]
        except KeyError:
            raise UnknownGateway(gateway_id) from None

    def wifi_server(self, gateway_id: str) -> SiteServer:
        self.server(gateway_id)  # raises UnknownGateway
        try:
            return self.wifi_servers[gateway_id]
        except KeyError:
            raise UnknownGateway(f"{gateway_id} has no Wi-Fi port (wifi=True)") from None

    def set_fault(self, gateway_id: str, fault: Fault, *, wifi: bool = False) -> int:
        """Activate a fault on one gateway (its Wi-Fi port: transport faults only);
        returns its id (for clear_faults)."""
        server = self.wifi_server(gateway_id) if wifi else self.server(gateway_id)
        return server.add_fault(fault).id

    def clear_faults(
        self, gateway_id: str | None = None, fault_id: int | None = None, *, wifi: bool = False
    ) -> int:
        """Clear one fault (fault_id), every fault of a gateway, or of all gateways (and
        all their Wi-Fi ports)."""
        if fault_id is not None:
            if gateway_id is None:
                raise ValueError("fault_id needs a gateway_id")
            server = self.wifi_server(gateway_id) if wifi else self.server(gateway_id)
            return int(server.remove_fault(fault_id))
        if gateway_id is None:
            servers = [*self.servers.values(), *self.wifi_servers.values()]
        else:
            servers = [self.wifi_server(gateway_id) if wifi else self.server(gateway_id)]
        return sum(s.clear_faults() for s in servers)

    def request_counts(self, gateway_id: str, *, wifi: bool = False) -> dict[str, int]:
        server = self.wifi_server(gateway_id) if wifi else self.server(gateway_id)
        return server.log.counts()

    def total_requests(self, gateway_id: str | None = None) -> int:
        servers = self.servers.values() if gateway_id is None else [self.server(gateway_id)]
        return sum(s.log.total() for s in servers)

    def recent_requests(self, gateway_id: str, limit: int | None = None) -> list[RequestRecord]:
        return self.server(gateway_id).log.recent(limit)

    def reset_requests(self, gateway_id: str | None = None) -> None:
        servers = self.servers.values() if gateway_id is None else [self.server(gateway_id)]
        for server in servers:
            server.log.reset()
        if gateway_id is None:
            for wifi in self.wifi_servers.values():
                wifi.log.reset()
            if self.fleet_api is not None:
                self.fleet_api.log.reset()

    def fleet_api_request_counts(self) -> dict[str, int]:
        """Requests the simulated Fleet API received, by path (site ids in the path)."""
        return self._fleet().log.counts()

    def set_fleet_api_fault(self, fault: Fault) -> int:
        """A transport fault (latency, hang, status, refused, ...) on the Fleet API."""
        if fault.kind in APP_KINDS:
            raise ValueError(f"{fault.kind} is a site fault: set it on a gateway")
        return self._fleet().add_fault(fault).id

    def clear_fleet_api_faults(self) -> int:
        return self._fleet().clear_faults()

    def fleetapi_config(self, gateway_id: str) -> dict[str, Any]:
        """pypowerwall's `.pypowerwall.fleetapi` contents for one gateway's site."""
        fleet = self._fleet()
        self.server(gateway_id)  # raises UnknownGateway
        site_id = next(c.energy_site_id for c in self.configs if c.gateway_id == gateway_id)
        return fleetapi_config(f"https://{fleet.address}", fleet.app.token, site_id)

    def _fleet(self) -> GatewayServer[SimulatedFleetApi]:
        if self.fleet_api is None:
            raise RuntimeError("the simulated Fleet API is off (fleet_api=True turns it on)")
        return self.fleet_api


class RunningSimulator:
    """A SimulatorCluster on a background thread; every method is safe from any thread."""

    def __init__(self, cluster: SimulatorCluster, loop: asyncio.AbstractEventLoop) -> None:
        self.cluster = cluster
        self._loop = loop

    @property
    def gateways(self) -> list[RunningGateway]:
        return self.cluster.gateways

    @property
    def admin_url(self) -> str | None:
        return self.cluster.admin_url

    @property
    def admin_token(self) -> str:
        return self.cluster.admin_token

    def gateway(self, gateway_id: str) -> RunningGateway:
        for gateway in self.gateways:
            if gateway.id == gateway_id:
                return gateway
        raise UnknownGateway(gateway_id)

    def set_fault(self, gateway_id: str, fault: Fault, *, wifi: bool = False) -> int:
        return self._call(lambda: self.cluster.set_fault(gateway_id, fault, wifi=wifi))

    def clear_faults(
        self, gateway_id: str | None = None, fault_id: int | None = None, *, wifi: bool = False
    ) -> int:
        return self._call(lambda: self.cluster.clear_faults(gateway_id, fault_id, wifi=wifi))

    def request_counts(self, gateway_id: str, *, wifi: bool = False) -> dict[str, int]:
        return self.cluster.request_counts(gateway_id, wifi=wifi)

    def total_requests(self, gateway_id: str | None = None) -> int:
        return self.cluster.total_requests(gateway_id)

    def recent_requests(self, gateway_id: str, limit: int | None = None) -> list[RequestRecord]:
        return self.cluster.recent_requests(gateway_id, limit)

    def reset_requests(self, gateway_id: str | None = None) -> None:
        self.cluster.reset_requests(gateway_id)

    @property
    def fleet_api_url(self) -> str | None:
        return self.cluster.fleet_api_url

    @property
    def ca_pem(self) -> bytes | None:
        return self.cluster.ca_pem

    def fleet_api_request_counts(self) -> dict[str, int]:
        return self.cluster.fleet_api_request_counts()

    def set_fleet_api_fault(self, fault: Fault) -> int:
        return self._call(self.cluster.set_fleet_api_fault, fault)

    def clear_fleet_api_faults(self) -> int:
        return self._call(self.cluster.clear_fleet_api_faults)

    def write_fleetapi_config(self, gateway_id: str, directory: str | Path) -> Path:
        """Write `<directory>/.pypowerwall.fleetapi` for this gateway's site (mode 0600);
        pass `authpath=directory` to pypowerwall.Powerwall(..., fleetapi=True)."""
        path = Path(directory, ".pypowerwall.fleetapi")
        data = json.dumps(self.cluster.fleetapi_config(gateway_id), indent=4)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(data)
        return path

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        async def on_loop() -> T:
            return fn(*args)

        future = asyncio.run_coroutine_threadsafe(on_loop(), self._loop)
        return future.result(THREAD_CALL_TIMEOUT_S)


@contextlib.contextmanager
def running_simulator(
    configs: Sequence[SiteConfig],
    *,
    host: str = "127.0.0.1",
    admin: bool = True,
    base_port: int | None = None,
    admin_port: int = 0,
    admin_token: str | None = None,
    app_factory: AppFactory = default_app_factory,
    fleet_api: bool = False,
    fleet_api_token: str | None = None,
    wifi: bool = False,
) -> Iterator[RunningSimulator]:
    """Run the simulated gateways on a background thread for the duration of the block."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=_run_loop, args=(loop,), name="pwsim-loop", daemon=True)
    thread.start()
    cluster = SimulatorCluster(
        configs,
        host=host,
        base_port=base_port,
        admin=admin,
        admin_port=admin_port,
        admin_token=admin_token,
        app_factory=app_factory,
        fleet_api=fleet_api,
        fleet_api_token=fleet_api_token,
        wifi=wifi,
    )
    try:
        asyncio.run_coroutine_threadsafe(cluster.start(), loop).result(THREAD_CALL_TIMEOUT_S)
        yield RunningSimulator(cluster, loop)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cluster.stop(), loop).result(THREAD_CALL_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(THREAD_CALL_TIMEOUT_S)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
