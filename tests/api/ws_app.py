"""Build an app with fast stream timings, for the stream tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pypowerwall_server.app import create_app
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.settings import Settings
from pypowerwall_server.streams import StreamConfig

# Fast timings so tests end in seconds; the production defaults are in StreamConfig.
FAST = StreamConfig(
    min_interval=0.05, gather=0.0, heartbeat_interval=0.3, stale_check_interval=0.05
)


def streams_app(
    settings: Settings, adapter_factory: Callable[[Any], Any], config: StreamConfig = FAST
) -> HotApp:
    return create_app(settings, adapter_factory=adapter_factory, stream_config=config)
