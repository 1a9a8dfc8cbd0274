"""The SDK's Streamable HTTP app for /mcp (imported on the first request only)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings

from pypowerwall_server.assistant.endpoint import PATH
from pypowerwall_server.assistant.history import HistoryReader
from pypowerwall_server.assistant.tools import build_server
from pypowerwall_server.http.asgi import ASGIApp
from pypowerwall_server.services import AppServices


def streamable_app(
    services: AppServices, history: HistoryReader | None
) -> tuple[ASGIApp, Callable[[], AbstractAsyncContextManager[None]]]:
    server = build_server(services, history)
    app: Any = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        # Host and Origin are the server's own rules (endpoint.py), not a second list.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return app, server.session_manager.run
