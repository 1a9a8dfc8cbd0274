"""TLS handshakes that never finish: on the HTTPS listener (listeners.HttpsServer) a
connection that sends one byte and stops is closed after the head timeout (asyncio's default
held it 60 s), while real TLS clients are served. asyncio and uvloop."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.listeners import HttpsServer
from pypowerwall_server.server_tls import CertificateFiles, self_signed_pem
from tests.waiting import wait_until

from .test_hot_protocol import build_app
from .uvicorn_server import Server

pytestmark = pytest.mark.integration  # starts a server

LIMITS = ClientLimits(head_timeout_s=0.5, max_connections=8)


@contextmanager
def _serving(
    limits: ClientLimits, use_uvloop: bool, tmp_path: Path
) -> Iterator[tuple[Server, Path]]:
    cert_pem, key_pem = self_signed_pem("localhost")
    files = CertificateFiles(tmp_path / "cert.pem", tmp_path / "key.pem", generated=True)
    files.cert.write_bytes(cert_pem)
    files.key.write_bytes(key_pem)
    app = build_app()
    options = {
        "http": hot_protocol(app, limits),
        "lifespan": "off",  # as the HTTPS listener runs: the primary owns the lifespan
        "ssl_certfile": str(files.cert),
        "ssl_keyfile": str(files.key),
    }

    def https_server(config: uvicorn.Config) -> uvicorn.Server:
        return HttpsServer(config, limits.head_timeout_s)

    with Server(app, use_uvloop, https_server, **options) as running:
        yield running, files.cert


@pytest.fixture(params=[False, True], ids=["asyncio", "uvloop"])
def https(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    with _serving(LIMITS, request.param, tmp_path) as running:
        yield running


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True  # reset


def _stalled_handshake(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"\x16")  # the first byte of a ClientHello, and nothing more
    sock.setblocking(False)
    return sock


def _served_over_tls(port: int, cert: Path) -> bool:
    trust = ssl.create_default_context(cafile=str(cert))
    answer = httpx.get(f"https://localhost:{port}/health", verify=trust, timeout=5)
    return bool(answer.json()["status"])  # no lifespan here: no poll yet, any status


def test_tls_handshakes_that_never_finish_are_closed_after_the_head_timeout(
    https: tuple[Server, Path],
) -> None:
    server, cert = https
    held = [_stalled_handshake(server.port) for _ in range(LIMITS.max_connections)]
    try:
        wait_until(lambda: all(_closed_by_server(sock) for sock in held), timeout=10)
    finally:
        for sock in held:
            sock.close()
    assert _served_over_tls(server.port, cert)


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_tls_handshakes_in_progress_escape_max_connections(
    use_uvloop: bool, tmp_path: Path
) -> None:
    """With the cap at 8, eight handshakes that never finish fill it: a ninth connection is
    closed at once, before any TLS object exists; once they time out, clients are served."""
    limits = ClientLimits(head_timeout_s=3.0, max_connections=8)
    with _serving(limits, use_uvloop, tmp_path) as (server, cert):
        held = [_stalled_handshake(server.port) for _ in range(8)]
        try:
            extra = _stalled_handshake(server.port)
            with extra:
                wait_until(lambda: _closed_by_server(extra), timeout=2)
            assert not any(_closed_by_server(sock) for sock in held)  # still in handshake
            wait_until(lambda: all(_closed_by_server(sock) for sock in held), timeout=10)
        finally:
            for sock in held:
                sock.close()
        assert _served_over_tls(server.port, cert)
