"""The container's health-check command on its own: where it asks, and what it answers when
nothing listens or the settings are invalid (the live cases: tests/integration/
test_wheel_install.py)."""

from __future__ import annotations

import socket

import pytest

from pypowerwall_server import healthcheck
from pypowerwall_server.settings import ServerConfig


@pytest.mark.parametrize(
    ("bind", "host"),
    [("0.0.0.0", "127.0.0.1"), ("::", "::1"), ("127.0.0.1", "127.0.0.1"), ("10.0.0.5", "10.0.0.5")],
)
def test_asks_where_the_server_listens(bind: str, host: str) -> None:
    assert healthcheck.target(ServerConfig(bind_address=bind, port=9000)) == (host, 9000)


def test_nothing_listening_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        code = healthcheck.main([], {"PW_GW_PWD": "SECRET1234", "PW_PORT": str(port)})
    assert code == 1
    assert capsys.readouterr().out.startswith(f"unhealthy: no answer from http://127.0.0.1:{port}/")


def test_invalid_settings_are_unhealthy_never_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main([], {"PW_GW_PWD": "SECRET1234", "PW_PORT": "x"}) == 1
    out = capsys.readouterr().out
    assert out.startswith("unhealthy: invalid settings: PW_PORT (environment)")
    assert "SECRET1234" not in out


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"status":"degraded","gateways":[{"fresh":true},{"fresh":false}]}',
         (0, "degraded: 1 of 2 gateway(s) fresh")),
        (503, b'{"status":"unhealthy","gateways":[{"fresh":false}]}',
         (1, "unhealthy: 0 of 1 gateway(s) fresh")),
        (502, b"<html>bad gateway</html>", (1, "unexpected /health answer (HTTP 502)")),
    ],
)  # fmt: skip
def test_verdict(status: int, body: bytes, expected: tuple[int, str]) -> None:
    assert healthcheck._verdict(status, body) == expected


def test_needs_no_gateway_settings(capsys: pytest.CaptureFixture[str]) -> None:
    """A container run with `--demo` or with gateways on its command line has none in its
    environment; the check still asks the port from the environment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert healthcheck.main([], {"PW_PORT": str(port)}) == 1
    assert capsys.readouterr().out.startswith(f"unhealthy: no answer from http://127.0.0.1:{port}/")
