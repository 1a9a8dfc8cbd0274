"""Hot GETs answered inside uvicorn's protocol give the same bytes as uvicorn's ASGI path,
in order, and everything the protocol does not take falls through to it unchanged."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pypowerwall_server.app import create_app
from pypowerwall_server.http.guarded_protocol import GuardedHttpProtocol
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.settings import ServerConfig, Settings
from tests.waiting import wait_until

from .conftest import FakeAdapter, contract_calls, gateway
from .uvicorn_server import Server

pytestmark = pytest.mark.integration  # starts a server or the simulator

CORS_ORIGIN = "http://dashboard.example"


def build_app(cors: bool = False) -> HotApp:
    adapters = {"home": FakeAdapter(contract_calls("tedapi"), tedapi=True)}
    server = ServerConfig(bind_address="127.0.0.1", cors_origins=(CORS_ORIGIN,) if cors else ())
    settings = Settings(server=server, gateways=(gateway("home", interval=3600),))
    return create_app(settings, adapter_factory=lambda cfg: adapters[cfg.id])


@pytest.fixture(params=[False, True], ids=["asyncio", "uvloop"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    app = build_app()
    with Server(app, request.param, http=hot_protocol(app), timeout_keep_alive=1) as running:
        wait_until(lambda: app.services.hub.get("home").snapshot is not None)
        yield running


def exchange(
    port: int, raw: bytes, responses: int = 1, timeout: float = 5.0, head_only: bool = False
) -> list[bytes]:
    """Send `raw` in one write; return each complete response (head and body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        out: list[bytes] = []
        while len(out) < responses:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            while b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = 0 if head_only else _content_length(head)
                if len(rest) < length:
                    break
                out.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
        return out


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def get(path: str, *extra: str, version: str = "1.1") -> bytes:
    lines = [f"GET {path} HTTP/{version}", "Host: 127.0.0.1", *extra, "", ""]
    return "\r\n".join(lines).encode()


def without(response: bytes, *names: bytes) -> bytes:
    """The response without the named header lines (date changes every second)."""
    head, _, body = response.partition(b"\r\n\r\n")
    kept = [h for h in head.split(b"\r\n") if h.split(b":")[0].lower() not in names]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def status(response: bytes) -> bytes:
    return response.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("path", ["/aggregates", "/csv/v2?headers", "/api/aggregate/power"])
def test_hot_answer_matches_uvicorns_asgi_path(server: Server, path: str) -> None:
    hot = exchange(server.port, get(path))[0]
    # Connection: close is never taken here, so this one went through uvicorn's cycle.
    asgi = exchange(server.port, get(path, "Connection: close"))[0]
    assert status(hot) == b"HTTP/1.1 200 OK"
    assert b"\r\ndate: " in hot and b"\r\nserver: uvicorn" in hot
    assert without(hot, b"date") == without(asgi, b"date", b"connection")


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    raw = get("/aggregates") + get("/api/gateways") + get("/soe") + get("/nope") + get("/soe")
    answers = exchange(server.port, raw, responses=5)
    assert [status(a) for a in answers] == [b"HTTP/1.1 200 OK"] * 3 + [
        b"HTTP/1.1 404 Not Found",
        b"HTTP/1.1 200 OK",
    ]
    assert b'"site"' in answers[0] and b'"gateways"' in answers[1]
    assert b'"percentage"' in answers[2] and b'"percentage"' in answers[4]


def test_head_http10_and_unknown_targets_fall_through(server: Server) -> None:
    head_request = get("/aggregates").replace(b"GET", b"HEAD", 1)
    # No body after HEAD: the next response on the connection starts right after its head.
    head, after = exchange(server.port, head_request + get("/soe"), 2, head_only=True)
    full = exchange(server.port, get("/aggregates"))[0]
    assert _content_length(head) == _content_length(full)
    assert status(after) == b"HTTP/1.1 200 OK"
    old = exchange(server.port, get("/aggregates", version="1.0"))[0]
    assert status(old) == b"HTTP/1.1 200 OK" and old.endswith(full.partition(b"\r\n\r\n")[2])
    encoded = exchange(server.port, get("/aggre%67ates"))[0]  # not a raw hot key: FastAPI
    assert encoded.partition(b"\r\n\r\n")[2] == full.partition(b"\r\n\r\n")[2]


def test_hot_requests_are_counted_in_stats(server: Server) -> None:
    exchange(server.port, get("/aggregates") * 3, responses=3)
    stats = exchange(server.port, get("/stats"))[0].partition(b"\r\n\r\n")[2]
    assert b'"/aggregates"' in stats


def test_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(get("/aggregates"))
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        started = time.monotonic()
        while sock.recv(65536):  # uvicorn's keep-alive timeout (1 s here) closes it
            pass
        assert time.monotonic() - started < 4


def test_with_cors_a_request_with_origin_gets_the_cors_headers() -> None:
    app = build_app(cors=True)
    with Server(app, http=hot_protocol(app)) as running:
        wait_until(lambda: app.services.hub.get("home").snapshot is not None)
        plain = exchange(running.port, get("/aggregates"))[0]
        cors = exchange(running.port, get("/aggregates", f"Origin: {CORS_ORIGIN}"))[0]
    assert b"access-control-allow-origin" not in plain
    assert f"access-control-allow-origin: {CORS_ORIGIN}".encode() in cors
    assert plain.partition(b"\r\n\r\n")[2] == cors.partition(b"\r\n\r\n")[2]


def test_an_incompatible_uvicorn_gets_its_own_protocol_still_guarded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(HttpToolsProtocol, "_unset_keepalive_if_required")
    protocol = hot_protocol(build_app())
    assert protocol.__mro__[1] is GuardedHttpProtocol  # limits and Host checks, no hot answers
    assert "_unset_keepalive_if_required" in caplog.text
