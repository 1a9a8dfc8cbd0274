"""What a request head must satisfy before any route sees it (RFC 9112 and DNS rebinding).

Checked in uvicorn's protocol (http/guarded_protocol.py) for hot and slow requests alike:
- request target and headers within the size limit (414, 431);
- HTTP/1.0 or 1.1 only (HTTP/0.9-style request lines are refused);
- exactly one Host on HTTP/1.1 (RFC 9112 3.2), at most one on 1.0;
- the Host names this server: an allowed name (PW_ALLOWED_HOSTS), any IP literal, or a name
  public DNS cannot give out: one label (`pypowerwall`, how Docker containers and
  Powerwall-Dashboard's Telegraf reach the server) or under `.local` (mDNS). A page on
  `evil.example` whose name resolves to this server (DNS rebinding) sends `Host: evil.example`,
  a name its author registered; IP literals and those local names cannot be rebound;
- Transfer-Encoding, if present, ends in chunked and comes without Content-Length (RFC 9112
  6.1, 6.3: anything else is a framing the server cannot trust → 400).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence

Refusal = tuple[int, str]  # status, message for the client
ANY_HOST = "*"
_HOST_OR_FRAMING = frozenset((b"host", b"transfer-encoding", b"content-length"))
_VERDICT_CACHE_MAX = 256  # distinct Host values remembered (a client may invent many)


class HostPolicy:
    """Which Host header values name this server (compared without port, case-insensitive)."""

    def __init__(self, names: Iterable[str]) -> None:
        cleaned = {_normalize(name) for name in names}
        self.any = ANY_HOST in cleaned
        self.names = frozenset(cleaned - {ANY_HOST, ""})
        self._verdicts: dict[bytes, bool] = {}

    def allows(self, raw_host: bytes) -> bool:
        verdict = self._verdicts.get(raw_host)
        if verdict is None:
            verdict = self.any or self._decide(raw_host)
            if len(self._verdicts) >= _VERDICT_CACHE_MAX:
                self._verdicts.clear()
            self._verdicts[raw_host] = verdict
        return verdict

    def _decide(self, raw_host: bytes) -> bool:
        try:
            host = raw_host.decode("ascii")
        except UnicodeDecodeError:
            return False
        name = _strip_port(host)
        if name is None:
            return False
        normalized = _normalize(name)
        return _is_ip_literal(name) or _local_only(normalized) or normalized in self.names


def _local_only(name: str) -> bool:
    """A name no public DNS answers for: one label, or mDNS's `.local` (RFC 6762)."""
    labels = name.split(".")
    valid = all(label and label.replace("-", "").replace("_", "").isalnum() for label in labels)
    return valid and (len(labels) == 1 or labels[-1] == "local")


def default_allowed_hosts(bind_address: str) -> tuple[str, ...]:
    """localhost, the bind address and this machine's names (IP literals need no entry)."""
    names = ["localhost", bind_address]
    try:
        hostname = socket.gethostname()
        names += [hostname, f"{hostname.partition('.')[0]}.local"]
        names.append(socket.getfqdn())
    except OSError:  # no name resolution at all: IP literals and localhost still work
        pass
    return tuple(dict.fromkeys(n for n in names if n and n not in ("0.0.0.0", "::")))


def head_refusal(
    http_version: str,
    headers: Sequence[tuple[bytes, bytes]],
    hosts: HostPolicy,
    target_bytes: int,
    max_head_bytes: int | None,
) -> Refusal | None:
    """Why this request head must be refused, or None if it may go on. max_head_bytes: None
    when the head is known to be within the limit (no need to measure it)."""
    if http_version != "1.1" and http_version != "1.0":
        return 400, f"HTTP/{http_version} is not supported"
    host: bytes | None = None
    if max_head_bytes is None:  # the usual head, checked in one pass: one allowed Host, no
        for name, value in headers:  # framing headers, nothing to measure
            if name in _HOST_OR_FRAMING:
                if host is not None or name != b"host":
                    break
                host = value
        else:
            if host is not None and hosts.allows(host):
                return None
    # Anything else: every rule in turn, to say which one failed.
    if max_head_bytes is not None and target_bytes > max_head_bytes:
        return 414, "request target too long"
    if max_head_bytes is not None:
        size = target_bytes + sum(len(name) + len(value) + 4 for name, value in headers)
        if size > max_head_bytes:  # 4: ": " and CRLF
            return 431, "request header fields too large"
    host = None
    host_count = 0
    transfer_encoding: bytes | None = None
    has_length = False
    for name, value in headers:
        if name == b"host":
            host_count += 1
            host = value
        elif name == b"transfer-encoding":
            joined = value if transfer_encoding is None else transfer_encoding + b"," + value
            transfer_encoding = joined
        elif name == b"content-length":
            has_length = True
    if host_count > 1:
        return 400, "more than one Host header"
    if host is None:
        if http_version == "1.1":
            return 400, "missing Host header"
    elif not hosts.allows(host):
        return 400, "Host not allowed (this server's allowed names are set by PW_ALLOWED_HOSTS)"
    if transfer_encoding is not None:
        final = transfer_encoding.rsplit(b",", 1)[-1].strip().lower()
        if final != b"chunked" or has_length:
            return 400, "unsupported Transfer-Encoding framing"
    return None


def _strip_port(host: str) -> str | None:
    """The name part of a Host value, or None if it is malformed."""
    if host.startswith("["):  # [IPv6]:port
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not _is_port(rest.removeprefix(":"))):
            return None
        return inside if _is_ip_literal(inside) else None
    name, colon, port = host.partition(":")
    if colon and not _is_port(port):
        return None
    return name


def _is_port(text: str) -> bool:
    return text.isdigit() and len(text) <= 5


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _normalize(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name


_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


def valid_prefix(value: str) -> bool:
    """A path prefix a reverse proxy may serve us under (PW_ROOT_PATH, X-Forwarded-Prefix)."""
    return bool(_PREFIX.match(value))
