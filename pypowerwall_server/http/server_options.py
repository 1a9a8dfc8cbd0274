"""uvicorn's options for the app: the guarded, hot protocol and the client limits
(listeners.py runs them; tests run the same ones)."""

from __future__ import annotations

from typing import Any

from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.settings import Settings
from pypowerwall_server.streams.keepalive import StreamsWebSocketProtocol


def uvicorn_options(
    app: HotApp, settings: Settings, limits: ClientLimits, http: type[Any] | None = None
) -> dict[str, Any]:
    """uvicorn's options for this app and its plain HTTP port (tests run the same ones)."""
    server = settings.server
    return {
        "host": server.bind_address,
        "port": server.port,
        "loop": "uvloop",
        # uvicorn's httptools protocol, guarded (http/guarded_protocol.py); hot GETs answered in it
        "http": http or hot_protocol(app, limits),
        "log_level": "debug" if server.debug else "info",
        "access_log": server.debug,
        "log_config": None,  # uvicorn's records go through our handlers (and secret scrubber)
        # a client that stops answering pings closes with 4408, not 1011
        "ws": StreamsWebSocketProtocol,
        # compressing per client costs 10x the CPU at 5,000 clients
        "ws_per_message_deflate": False,
        "ws_max_size": limits.max_ws_message_bytes,  # the streams only push
        # uvicorn believes X-Forwarded-For from loopback by default: anyone on the machine
        # could then pick the address a lockout or the audit sees. Only the proxies named.
        "proxy_headers": bool(server.trusted_proxies),
        "forwarded_allow_ips": list(server.trusted_proxies),
    }
