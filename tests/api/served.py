"""A real uvicorn over the app with the options run_server gives it (the hot protocol
included), one fake gateway "home", and an httpx client to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from pypowerwall_server.app import create_app
from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.http.server_options import uvicorn_options
from pypowerwall_server.settings import ServerConfig, Settings

from .conftest import FakeAdapter, contract_calls, gateway
from .uvicorn_server import Server


def app_with(**server: Any) -> tuple[HotApp, Settings]:
    config = ServerConfig(bind_address="127.0.0.1", **server)
    settings = Settings(server=config, gateways=(gateway("home", 30.0),))
    adapter = FakeAdapter(contract_calls("tedapi"), tedapi=True)
    return create_app(settings, adapter_factory=lambda _: adapter), settings


@contextmanager
def serving(uvicorn_extra: dict[str, Any] | None = None, **server: Any) -> Iterator[httpx.Client]:
    """`uvicorn_extra` overrides uvicorn options; `server` are ServerConfig fields."""
    app, settings = app_with(**server)
    options = {**uvicorn_options(app, settings, ClientLimits()), **(uvicorn_extra or {})}
    for bound_elsewhere in ("host", "port", "loop"):
        del options[bound_elsewhere]
    with (
        Server(app, True, **options) as running,
        httpx.Client(base_url=f"http://127.0.0.1:{running.port}", timeout=10) as client,
    ):
        yield client
