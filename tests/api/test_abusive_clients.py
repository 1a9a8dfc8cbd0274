"""Client limits: abusive clients against a real uvicorn with the server's protocol.

Each request kind is tried on a hot target (answered inside the protocol) and a slow one
(uvicorn's ASGI cycle): the guard must refuse both the same way, before any route answers.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Iterator

import pytest

from pypowerwall_server.app import create_app
from pypowerwall_server.http import client_limits
from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.guarded_protocol import SWEEPS_PER_TIMEOUT, HeadWatch
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.http.request_rules import HostPolicy, default_allowed_hosts, head_refusal
from pypowerwall_server.settings import ServerConfig, Settings
from tests.waiting import wait_until

from .conftest import FakeAdapter, contract_calls, gateway
from .test_hot_protocol import build_app, exchange, status
from .uvicorn_server import Server

pytestmark = pytest.mark.integration  # starts a server

HOT, SLOW = "/aggregates", "/api/gateways"
HEAD_TIMEOUT_S = 0.6
LIMITS = ClientLimits(max_head_bytes=4096, head_timeout_s=HEAD_TIMEOUT_S, max_connections=20)


@pytest.fixture
def server() -> Iterator[Server]:
    app = build_app()
    protocol = hot_protocol(app, LIMITS, HostPolicy(("localhost", "powerwall.lan")))
    with Server(app, True, http=protocol, timeout_keep_alive=5) as running:
        wait_until(lambda: app.services.hub.get("home").snapshot is not None)
        yield running


def request(path: str, *lines: str, host: str | None = "127.0.0.1", version: str = "1.1") -> bytes:
    head = [f"GET {path} HTTP/{version}", *([f"Host: {host}"] if host else []), *lines]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def answers(port: int, raw: bytes) -> list[bytes]:
    """The first response (a list, so a missing one fails the unpacking)."""
    return exchange(port, raw, responses=1, timeout=3)


def read_until_closed(sock: socket.socket, limit_s: float) -> bytes:
    sock.settimeout(limit_s)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


# Item 1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HOT, SLOW])
def test_item1_header_size_is_bounded(server: Server, path: str) -> None:
    big = request(path, "X-Filler: " + "a" * 5000)
    (answer,) = answers(server.port, big)
    assert status(answer) == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"connection: close" in answer and b'"error"' in answer
    (long_target,) = answers(server.port, request(path + "?" + "q" * 5000))
    assert status(long_target) == b"HTTP/1.1 414 Request-URI Too Long"
    (fine,) = answers(server.port, request(path, "X-Filler: " + "a" * 3000))
    assert status(fine) == b"HTTP/1.1 200 OK"


def test_item1_never_ending_header_is_cut_off_with_a_431(server: Server) -> None:
    """A header that never ends: refused once past the limit, not after it all arrived, and
    the client still sending gets to read the 431 (no reset before it)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(b"GET /aggregates HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ")
        sent, answer = 0, b""
        while not answer and sent < 4 * 1024 * 1024:
            sock.sendall(b"a" * 1024)
            sent += 1024
            if select.select([sock], [], [], 0)[0]:  # readable: the answer (or the close)
                answer = sock.recv(65536)
            time.sleep(0.0002)
        assert status(answer) == b"HTTP/1.1 431 Request Header Fields Too Large"
        assert sent < 1024 * 1024  # cut off long before the client was done
        assert read_until_closed(sock, 3) == b""  # then closed (no more bytes)


# Item 2 ------------------------------------------------------------------------------------


def test_item2_slow_clients_are_closed_within_the_head_timeout(server: Server) -> None:
    started = time.monotonic()
    with (
        socket.create_connection(("127.0.0.1", server.port)) as idle,
        socket.create_connection(("127.0.0.1", server.port)) as trickling,
    ):
        trickling.sendall(b"GET /aggregates HTTP/1.1\r\n")
        for _ in range(3):  # keeps sending, never finishes the head
            time.sleep(HEAD_TIMEOUT_S / 4)
            trickling.sendall(b"X-Slow: 1\r\n")
        trickled = read_until_closed(trickling, 3)
        idled = read_until_closed(idle, 3)
    elapsed = time.monotonic() - started
    assert status(trickled) == b"HTTP/1.1 408 Request Timeout"
    assert status(idled) == b"HTTP/1.1 408 Request Timeout"
    assert HEAD_TIMEOUT_S <= elapsed < HEAD_TIMEOUT_S * 3
    (after,) = answers(server.port, request(HOT))  # the server itself is fine
    assert status(after) == b"HTTP/1.1 200 OK"


def test_item2_keep_alive_connection_gets_a_fresh_head_timeout(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        for _ in range(3):  # longer than one head timeout in all, each head quick
            time.sleep(HEAD_TIMEOUT_S / 2)
            sock.sendall(request(HOT))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")


class _Pending:
    """A connection as the head watch sees it: refusing it ends its watch, as the real one."""

    def __init__(self, watch: HeadWatch) -> None:
        self.watch = watch
        self.timed_out = False
        self.loop = self  # call_later below: the test drives the sweeps itself

    def call_later(self, *args: object) -> None:
        return None

    def head_timed_out(self) -> None:
        self.timed_out = True
        self.watch.end(self)  # type: ignore[arg-type]


def test_item2_head_watch_sweep_closes_exactly_the_late_heads() -> None:
    watch = HeadWatch(timeout_s=1.0)
    first, second, third = (_Pending(watch) for _ in range(3))

    def sweeps(count: int) -> None:
        for _ in range(count):
            watch._sweep(first)  # type: ignore[arg-type]

    watch.begin(first)  # type: ignore[arg-type]  # tick 0
    sweeps(1)
    watch.begin(second)  # type: ignore[arg-type]  # tick 1
    sweeps(1)
    watch.end(first)  # type: ignore[arg-type]  # a keep-alive answer, then its next head
    watch.begin(first)  # type: ignore[arg-type]  # tick 2: now behind `second`
    watch.begin(third)  # type: ignore[arg-type]  # tick 2
    sweeps(SWEEPS_PER_TIMEOUT)  # tick 22: only `second` (tick 1) is past the timeout
    assert (first.timed_out, second.timed_out, third.timed_out) == (False, True, False)
    sweeps(1)  # tick 23
    assert first.timed_out and third.timed_out
    assert watch.started == {}


def test_item2_connections_beyond_the_cap_get_503_logged_once(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    held = [
        socket.create_connection(("127.0.0.1", server.port)) for _ in range(LIMITS.max_connections)
    ]
    try:
        wait_until(lambda: len(server.server.server_state.connections) >= LIMITS.max_connections)
        refused = []
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=3) as extra:
                refused.append(read_until_closed(extra, 3))
        assert all(status(r) == b"HTTP/1.1 503 Service Unavailable" for r in refused)
    finally:
        for sock in held:
            sock.close()
    full_lines = [r for r in caplog.records if "PW_MAX_CONNECTIONS" in r.getMessage()]
    assert len(full_lines) == 1
    wait_until(lambda: len(server.server.server_state.connections) == 0)
    (after,) = answers(server.port, request(HOT))
    assert status(after) == b"HTTP/1.1 200 OK"


# Item 3 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HOT, SLOW])
@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("evil.example", False),
        ("evil.example:8675", False),
        ("localhost.evil.example", False),
        ("POWERWALL.LAN:8675", True),
        ("localhost", True),
        ("10.1.2.3:8675", True),  # IP literals cannot be rebound
        ("[::1]:8675", True),
        ("[evil.example]", False),
        ("127.0.0.1:notaport", False),
        ("pypowerwall:8675", True),  # a Docker service name (Powerwall-Dashboard's Telegraf)
        ("powerwall.local", True),  # mDNS: no public DNS answers for .local
        ("evil.local.example", False),
        ("bad name", False),
    ],
)
def test_item3_dns_rebinding_host_is_refused(
    server: Server, path: str, host: str, allowed: bool
) -> None:
    (answer,) = answers(server.port, request(path, host=host))
    expected = b"HTTP/1.1 200 OK" if allowed else b"HTTP/1.1 400 Bad Request"
    assert status(answer) == expected
    if not allowed:
        assert b"PW_ALLOWED_HOSTS" in answer


def test_item3_dns_rebinding_websocket_is_refused(server: Server) -> None:
    upgrade = (
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    )
    rebound = request("/ws/aggregate", *upgrade, "Origin: http://evil.example", host="evil.example")
    (answer,) = answers(server.port, rebound)
    assert status(answer) == b"HTTP/1.1 400 Bad Request"
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(request("/ws/aggregate", *upgrade))
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")


def test_item3_default_allowed_hosts_name_this_machine() -> None:
    names = default_allowed_hosts("0.0.0.0")
    assert "localhost" in names and socket.gethostname() in names and "0.0.0.0" not in names
    policy = HostPolicy(names)
    assert policy.allows(socket.gethostname().encode() + b":8675")
    assert policy.allows(b"192.168.1.20") and not policy.allows(b"evil.example")
    assert HostPolicy(("*",)).allows(b"evil.example")


# Item 4 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HOT, SLOW])
@pytest.mark.parametrize(
    "raw",
    [
        request("{path}", "Transfer-Encoding: xchunked"),
        request("{path}", "Transfer-Encoding: chunked, gzip"),
        request("{path}", "Transfer-Encoding: chunked", "Content-Length: 0"),
        request("{path}", host=None),
        request("{path}", "Host: 127.0.0.1"),  # a second Host
        request("{path}", version="0.9"),
        b"GET {path}\r\n\r\n",  # HTTP/0.9 style
        request("{path}", version="2.0"),
    ],
    ids=[
        "xchunked",
        "chunked-not-last",
        "te-and-length",
        "no-host",
        "two-hosts",
        "0.9",
        "0.9-style",
        "2.0",
    ],
)
def test_item4_hot_path_validates_before_answering(server: Server, path: str, raw: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(raw.replace(b"{path}", path.encode()))
        received = read_until_closed(sock, 3)
    assert received.startswith(b"HTTP/1.1 400 Bad Request")
    assert received.count(b"HTTP/1.1 ") == 1  # one answer: the 400, nothing before it


def test_item4_http10_without_host_is_still_served(server: Server) -> None:
    (answer,) = answers(server.port, request(HOT, host=None, version="1.0"))
    assert status(answer) == b"HTTP/1.1 200 OK"


def test_item4_malformed_requests_log_one_warning_per_minute(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        answers(server.port, request(HOT, "Transfer-Encoding: xchunked"))
        answers(server.port, b"NOT HTTP AT ALL\r\n\r\n")
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 2  # one per kind of refusal, not one per request


def test_item3_allowed_hosts_setting_reaches_the_protocol() -> None:
    adapters = {"home": FakeAdapter(contract_calls("tedapi"), tedapi=True)}
    server = ServerConfig(bind_address="127.0.0.1", allowed_hosts=("powerwall.lan",))
    settings = Settings(server=server, gateways=(gateway("home", interval=3600),))
    app = create_app(settings, adapter_factory=lambda cfg: adapters[cfg.id])
    with Server(app, True, http=hot_protocol(app)) as running:
        wait_until(lambda: app.services.hub.get("home").snapshot is not None)
        (named,) = answers(running.port, request(HOT, host="powerwall.lan:8675"))
        (local,) = answers(running.port, request(HOT, host="localhost"))
        (other,) = answers(running.port, request(HOT, host="nas.lan"))
    assert status(named) == status(local) == b"HTTP/1.1 200 OK"
    assert status(other) == b"HTTP/1.1 400 Bad Request"


def test_item2_descriptor_limit_is_raised_to_fit_the_connection_cap(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"soft": 1024, "hard": 4096}
    monkeypatch.setattr(
        client_limits.resource, "getrlimit", lambda _: (limits["soft"], limits["hard"])
    )
    monkeypatch.setattr(
        client_limits.resource, "setrlimit", lambda _, pair: limits.update(soft=pair[0])
    )
    assert client_limits.fit_descriptor_limit(2000) == 2000
    assert limits["soft"] == 2000 + client_limits.FD_RESERVE
    fitted = client_limits.fit_descriptor_limit(10_000)  # the hard limit stops at 4096
    assert fitted == 4096 - client_limits.FD_RESERVE
    assert "serving at most" in caplog.text


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"host", b"localhost:8675"), (b"accept", b"*/*")], None),
        ([(b"host", b"localhost"), (b"transfer-encoding", b"chunked")], None),
        (
            [
                (b"host", b"localhost"),
                (b"transfer-encoding", b"gzip"),
                (b"transfer-encoding", b"chunked"),
            ],
            None,
        ),
        (
            [
                (b"host", b"localhost"),
                (b"transfer-encoding", b"chunked"),
                (b"transfer-encoding", b"gzip"),
            ],
            400,
        ),
        ([(b"host", b"localhost"), (b"content-length", b"3")], None),
        ([(b"host", b"localhost"), (b"host", b"localhost")], 400),
        ([(b"accept", b"*/*")], 400),
        ([(b"host", b"evil.example")], 400),
    ],
)
def test_item4_head_rules_one_pass_and_full_check_agree(
    headers: list[tuple[bytes, bytes]], expected: int | None
) -> None:
    hosts = HostPolicy(("localhost",))
    quick = head_refusal("1.1", headers, hosts, 11, None)  # the usual, unmeasured path
    measured = head_refusal("1.1", headers, hosts, 11, 16384)
    assert (quick and quick[0]) == (measured and measured[0]) == expected
