"""create_app(settings) → the ASGI application; its lifespan owns every background task."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.api.full_app import build_api
from pypowerwall_server.api.ws_endpoints import stream_endpoints
from pypowerwall_server.assistant.endpoint import McpEndpoint
from pypowerwall_server.control.wiring import ControlAccess, build_control
from pypowerwall_server.events.sqlite_store import SqliteEventStore
from pypowerwall_server.events.store import EventStore
from pypowerwall_server.events.wiring import build_events, running_events
from pypowerwall_server.exposition import Exposition
from pypowerwall_server.exposition_data import ServerCounts
from pypowerwall_server.gateway.adapter import PypowerwallAdapter
from pypowerwall_server.gateway.protocol import GatewayAdapter
from pypowerwall_server.gateway.supervisor import AdapterFactory, GatewaySupervisor, WriterFactory
from pypowerwall_server.gateway.transports import build_chain
from pypowerwall_server.gateway.writer import GatewayWriter, build_writer
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.gc_freeze import freeze_after_start
from pypowerwall_server.history.service import HistoryService
from pypowerwall_server.http.admission import admission_for
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.http.hot_routes import hot_routes
from pypowerwall_server.http.lazy_api import LazyApp
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import LegacyOptions
from pypowerwall_server.request_stats import RequestStats
from pypowerwall_server.services import AppServices, LiveServices
from pypowerwall_server.settings import GatewayConfig, Settings
from pypowerwall_server.streams import StreamConfig, start_streams
from pypowerwall_server.tasks import background
from pypowerwall_server.web.layer import WebLayer, WebOptions

if TYPE_CHECKING:
    from pypowerwall_server.mqtt.publisher import MqttPublisher
    from pypowerwall_server.server_tls import HttpsSetup

log = logging.getLogger(__name__)


def default_adapter_factory(config: GatewayConfig) -> GatewayAdapter:
    """The gateway's transports in order (one for a single-mode configuration), each its
    own library connection."""
    return build_chain(config, transport_adapter)


def default_writer_factory(config: GatewayConfig, reader: GatewayAdapter) -> GatewayWriter:
    """Writes go through the transport that reads, or a connection of their own."""
    return build_writer(config, reader, transport_adapter)


def transport_adapter(config: GatewayConfig) -> PypowerwallAdapter:
    # The library's cache must expire before our next tick, or a poll could re-read it.
    return PypowerwallAdapter(config, cache_expire=config.poll_interval * 0.8)


def create_app(
    settings: Settings,
    adapter_factory: AdapterFactory = default_adapter_factory,
    clock: Callable[[], float] = time.time,
    stream_config: StreamConfig | None = None,
    writer_factory: WriterFactory = default_writer_factory,
    freeze_start_up: bool = False,
    event_store: EventStore | None = None,
) -> HotApp:
    states = [GatewayState(g.id, g.name, g.mode, g.poll_interval) for g in settings.gateways]
    hub = Hub(states, settings.server.stale_after_intervals, clock)
    server = settings.server
    options = LegacyOptions(server.neg_solar, server.site_zero_threshold, server.personal_data)
    answers = ReadModel(hub, options)
    supervisor = GatewaySupervisor(
        settings.gateways, hub, adapter_factory, clock, writer_factory=writer_factory
    )
    stats, live = RequestStats(), LiveServices()
    control = build_control(settings, supervisor)
    history = HistoryService(settings, hub)
    control.audit.listeners.append(history.record_control)
    if event_store is None and history.store is not None:
        event_store = SqliteEventStore(history.store)  # events outlive a restart with history
    events = build_events(settings, hub, control.audit, event_store)
    mqtt = _mqtt_publisher(settings, answers, control)
    if mqtt is not None:
        mqtt.events = events
    exposition = Exposition(hub, server_counts(stats, live, mqtt))
    # The endpoint builds its server from `services` on its first request (late binding).
    mcp = McpEndpoint(server.cors_origins, lambda: _mcp_app(services)) if server.mcp else None
    services = AppServices(
        settings, hub, answers, supervisor, stats, exposition, control, live, mcp, history, events
    )

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        # Streams close their clients before the pollers stop.
        async with (
            history.running(),  # before the pollers: their first readings are recorded
            supervisor.running(),
            start_streams(answers, settings.server.cors_origins, stream_config) as streams,
            background("poll-timer", exposition.time_polls),
            background("control-follow-ups", control.follow_ups.run),
            running_events(events),
            background("mqtt", mqtt.run) if mqtt else contextlib.nullcontext(),
            background("mcp", mcp.run) if mcp else contextlib.nullcontext(),
            (
                background("gc-freeze", functools.partial(freeze_after_start, hub))
                if freeze_start_up  # process-wide: the server's process only, not tests'
                else contextlib.nullcontext()
            ),
        ):
            services.live.streams = streams
            try:
                yield
            finally:
                services.live.streams = None

    websocket = stream_endpoints(services)
    api = LazyApp(functools.partial(build_api, services))
    server = settings.server
    web_options = WebOptions(
        server.style or "", server.frame_ancestors, server.root_path or "", server.history
    )
    web = WebLayer(api, hub.gateway_ids, web_options, websocket)  # the UI, before FastAPI
    admission = admission_for(server)
    return HotApp(
        web,
        hot_routes(services),
        services,
        lifespan=lifespan,
        websocket=websocket,
        admission=admission,
    )


def _mqtt_publisher(
    settings: Settings, answers: ReadModel, control: ControlAccess
) -> MqttPublisher | None:
    """The MQTT publisher when a broker is configured; aiomqtt (and paho) load only then."""
    if settings.server.mqtt_host is None:
        return None
    from pypowerwall_server.mqtt.publisher import mqtt_publisher

    return mqtt_publisher(settings, answers, control)


def server_counts(
    stats: RequestStats, live: LiveServices, mqtt: MqttPublisher | None
) -> ServerCounts:
    if mqtt is None:
        return ServerCounts(stats, live.websocket_clients)
    return ServerCounts(
        stats, live.websocket_clients, lambda: mqtt.connected, lambda: mqtt.published
    )


def run_server(settings: Settings, https: HttpsSetup | None = None) -> None:
    """Serve until SIGTERM/SIGINT (the CLI's default action); HTTPS too with `https`."""
    from pypowerwall_server.listeners import serve
    from pypowerwall_server.stop_signal import exit_zero_on_sigterm

    app = create_app(settings, freeze_start_up=True)
    if app.services.history is not None:
        refuse_shared_history(app.services.history)
    exit_zero_on_sigterm()
    serve(app, settings, https)


def _mcp_app(services: AppServices) -> Any:
    """The SDK's app for /mcp (it loads the MCP SDK); its energy and outage tools read the
    history store when history is on."""
    from pypowerwall_server.assistant.history import StoreHistoryReader
    from pypowerwall_server.assistant.serve import streamable_app

    history = services.history
    reader = StoreHistoryReader(history) if history is not None and history.on else None
    return streamable_app(services, reader)


def refuse_shared_history(history: HistoryService) -> None:
    """A second server on the same history file stops here with one line and exit 2."""
    import sys

    from pypowerwall_server.history.lock import HistoryLocked

    try:
        history.claim()
    except HistoryLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
