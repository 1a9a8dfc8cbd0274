"""What one client may cost the server: header size, time to send a request head, connections,
WebSocket message size. The defaults fit a LAN server; a reverse proxy in front
(docs/api.md) can enforce stricter ones."""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024  # request line + headers; more → 431 (414 for the target alone)
HEAD_TIMEOUT_S = 10.0  # from a connection's first byte (or its opening) to a complete head
MAX_CONNECTIONS = 10_000  # HTTP and WebSocket together; beyond → 503 and close
MAX_WS_MESSAGE_BYTES = 4 * 1024  # the streams only push; clients have nothing big to say
FD_RESERVE = 128  # descriptors kept for gateway sockets, log files, the listening socket


@dataclass(frozen=True, slots=True)
class ClientLimits:
    max_head_bytes: int = MAX_HEAD_BYTES
    head_timeout_s: float = HEAD_TIMEOUT_S
    max_connections: int = MAX_CONNECTIONS
    max_ws_message_bytes: int = MAX_WS_MESSAGE_BYTES


def fit_descriptor_limit(max_connections: int) -> int:
    """Raise the soft open-files limit toward the hard one so `max_connections` fit; return
    the number of connections that fit (logged when it is less than asked)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):  # pragma: no cover - no rlimits on this platform
        return max_connections
    wanted = max_connections + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return max_connections
    fitting = max(1, soft - FD_RESERVE)
    log.warning(
        "open-files limit is %d: serving at most %d connections instead of %d "
        "(raise `ulimit -n` to serve more)",
        soft,
        fitting,
        max_connections,
    )
    return fitting
