"""Which browser pages may open a stream: same origin, plus the configured CORS origins.

A missing Origin header is allowed: browsers always send one, so its absence means a script
or a service (Home Assistant, curl), which cross-site WebSocket hijacking cannot reach.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """True if a page from `origin` may connect to this server, reached as `host` (the Host
    header). `allowed` are extra origins ("*" allows every origin)."""
    if origin is None:
        return True
    if "*" in allowed:
        return True
    normalized = origin.strip().rstrip("/").lower()
    if normalized in {a.rstrip("/").lower() for a in allowed}:
        return True
    return host is not None and _same_origin(normalized, host)


def _same_origin(origin: str, host: str) -> bool:
    """Same host name and port as the Host header. The scheme is not compared: behind a
    TLS-terminating proxy the page is https while this server sees plain ws."""
    try:
        parts = urlsplit(origin)
        origin_host, origin_port = parts.hostname, parts.port
        target = urlsplit(f"//{host.strip().lower()}")
        target_host, target_port = target.hostname, target.port
    except ValueError:
        return False
    default = DEFAULT_PORTS.get(parts.scheme)
    if origin_host is None or target_host is None or default is None:
        return False
    return origin_host == target_host and (origin_port or default) == (target_port or default)
