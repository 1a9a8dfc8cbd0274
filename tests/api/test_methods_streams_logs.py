"""405 and OPTIONS, the WebSocket message cap and the request/WebSocket
half of 11 (log volume), on the options run_server gives uvicorn."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.server_options import uvicorn_options
from pypowerwall_server.log_limit import ClientNoiseFilter, RateLimitedLog
from tests.waiting import wait_until

from .test_hot_protocol import CORS_ORIGIN, build_app
from .uvicorn_server import Server

pytestmark = pytest.mark.integration  # starts a server


@pytest.fixture
def server() -> Iterator[Server]:
    """The app on uvicorn with run_server's options and log filter."""
    app = build_app()
    options = uvicorn_options(app, app.services.settings, ClientLimits())
    for bound_elsewhere in ("host", "port", "loop"):
        del options[bound_elsewhere]
    uvicorn_log = logging.getLogger("uvicorn.error")
    noise = ClientNoiseFilter()
    uvicorn_log.addFilter(noise)
    try:
        with Server(app, True, **options) as running:
            wait_until(lambda: app.services.hub.get("home").snapshot is not None)
            yield running
    finally:
        uvicorn_log.removeFilter(noise)


# Item 5 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/aggregates", "/api/gateways", "/health", "/nonexistent"])
def test_item5_405_lists_allowed_methods_and_options_answers(path: str) -> None:
    with TestClient(build_app()) as client:
        refused = client.post(path)
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, OPTIONS"
        assert refused.json() == {"error": "Method Not Allowed"}
        options = client.options(path)
        assert options.status_code == 204 and options.headers["allow"] == "GET, OPTIONS"


def test_item5_options_with_cors_on_is_a_preflight_or_a_plain_answer() -> None:
    with TestClient(build_app(cors=True)) as client:
        preflight = client.options(
            "/aggregates",
            headers={"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == CORS_ORIGIN
        plain = client.options("/aggregates")
        assert plain.status_code == 204 and "GET" in plain.headers["allow"]
        refused = client.options(  # a preflight no CORS rule allows stays a 405
            "/aggregates",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert refused.status_code in (400, 405)
        assert "access-control-allow-origin" not in refused.headers


# Item 6 ------------------------------------------------------------------------------------


def test_item6_websocket_messages_are_capped(server: Server) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws/aggregate"
    limit = ClientLimits().max_ws_message_bytes
    with connect(url, max_size=None) as ws:
        ws.recv(timeout=5)  # the welcome state
        ws.send("x" * (limit // 2))  # small messages are read and ignored
        ws.send(b"\x00" * (limit * 4))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


# Item 11 (requests and WebSocket connects) --------------------------------------------------


def test_item11_websocket_connects_log_at_debug_not_info(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = f"ws://127.0.0.1:{server.port}/ws/aggregate"
    for _ in range(3):
        with connect(url) as ws:
            ws.recv(timeout=5)
    wait_until(lambda: not server.server.server_state.connections)
    uvicorn_lines = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert [r for r in uvicorn_lines if r.levelno >= logging.INFO] == []
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("uvicorn.error").setLevel(logging.DEBUG)
    with connect(url) as ws:
        ws.recv(timeout=5)
    wait_until(lambda: any("connection open" in r.getMessage() for r in caplog.records))
    opened = [r for r in caplog.records if "connection open" in r.getMessage()]
    assert [r.levelname for r in opened] == ["DEBUG"]


def test_item11_malformed_request_warnings_are_rate_limited() -> None:
    now = [0.0]
    noise = ClientNoiseFilter()
    noise.limiter.clock = lambda: now[0]

    def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", level, __file__, 1, message, None, None)

    bad = "Invalid HTTP request received."
    passed = [noise.filter(record(bad)) for _ in range(100)]
    assert passed.count(True) == 1
    assert noise.filter(record("Something else entirely."))  # other warnings are untouched
    now[0] = 61.0
    later = record(bad)
    assert noise.filter(later) and "99 more like this" in later.getMessage()


def test_item11_rate_limited_log_counts_what_it_left_out(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("test.limited"), 60, lambda: now[0])
    caplog.set_level(logging.WARNING)
    sent = [limited.log(logging.WARNING, "431", "refused %s", i) for i in range(10)]
    assert sent == [True] + [False] * 9
    assert limited.log(logging.WARNING, "414", "refused other")  # its own key
    now[0] = 60.0
    assert limited.log(logging.WARNING, "431", "refused %s", "again")
    assert caplog.messages == [
        "refused 0",
        "refused other",
        "refused again (9 more like this in the last 60 s)",
    ]


def test_websocket_origin_refusals_write_one_line_not_two_each(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = f"ws://127.0.0.1:{server.port}/ws/aggregate"
    for _ in range(20):
        with pytest.raises(InvalidStatus):
            connect(url, origin=Origin("http://evil.example"))
    wait_until(lambda: not server.server.server_state.connections)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 1 and "refused: origin 'http://evil.example'" in lines[0]
