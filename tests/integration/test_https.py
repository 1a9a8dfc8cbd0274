"""PW_HTTPS=yes: the same app over TLS on PW_HTTPS_PORT beside plain HTTP, checked with real
TLS clients that verify the generated self-signed certificate: REST, a wss:// stream, and
the hot GETs answering the same bytes on both ports. SIGTERM with a stream open: < 5 s."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import running_simulator
from tests.waiting import wait_until

from .server_process import ServerProcess, free_port, local_gateways_json, without_pw_variables

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
HOT_PATHS = ("/aggregates", "/soe", "/csv", "/api/aggregate/power", "/api/meters/aggregates")


@dataclass(frozen=True)
class Running:
    server: ServerProcess
    http_port: int
    https_port: int
    trust: ssl.SSLContext  # trusts exactly the server's generated certificate
    cert: Path


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    sites = [SiteConfig.for_index(i, seed=21) for i in range(2)]
    with running_simulator(sites, admin=False) as sim:
        http_port, https_port = free_port(), free_port()
        env = {
            **without_pw_variables(),
            "PW_GATEWAYS": local_gateways_json(sim),
            "PW_BIND_ADDRESS": "127.0.0.1",
            "PW_PORT": str(http_port),
            "PW_HTTPS": "yes",
            "PW_HTTPS_PORT": str(https_port),
            "PW_DATA_DIR": str(tmp_path / "data"),
        }
        command = [sys.executable, "-m", "pypowerwall_server"]
        server = ServerProcess(command, env, tmp_path / "server.log")
        cert = tmp_path / "data" / "tls" / "cert.pem"
        try:
            wait_until(lambda: _server_up(server, cert), 20)
            trust = ssl.create_default_context(cafile=str(cert))
            running = Running(server, http_port, https_port, trust, cert)
            wait_until(lambda: _healthy(running), 30)
            yield running
        finally:
            server.stop()


def _server_up(server: ServerProcess, cert: Path) -> bool:
    server.assert_running()
    return cert.exists() and "Application startup complete" in server.output()


def _healthy(running: Running) -> bool:
    url = f"https://127.0.0.1:{running.https_port}/health"
    try:
        return bool(httpx.get(url, verify=running.trust, timeout=2).json()["status"] == "healthy")
    except httpx.TransportError:
        return False


def test_rest_over_verified_tls_with_the_logged_fingerprint(running: Running) -> None:
    with httpx.Client(verify=running.trust, timeout=5) as client:
        gateways = client.get(f"https://127.0.0.1:{running.https_port}/api/gateways")
        docs = client.get(f"https://localhost:{running.https_port}/openapi.json")
    assert gateways.status_code == 200
    assert [g["id"] for g in gateways.json()["gateways"]] == ["gw1", "gw2"]
    assert docs.status_code == 200 and docs.json()["info"]["title"]
    with (
        socket.create_connection(("127.0.0.1", running.https_port), timeout=5) as raw,
        running.trust.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    served = hashlib.sha256(der).hexdigest().upper()
    logged = re.search(r"SHA-256 fingerprint ([0-9A-F:]+)", running.server.output())
    assert logged is not None, running.server.output()
    assert logged.group(1).replace(":", "") == served


def test_hot_gets_answer_the_same_bytes_over_tls(running: Running) -> None:
    with _plain(running) as http, _tls(running) as https:
        for path in HOT_PATHS:
            assert _same_answer(http, https, path), path


def _same_answer(http: socket.socket, https: socket.socket, path: str) -> bool:
    """HTTP, HTTPS, HTTP on kept-alive connections; when both HTTP answers match (no poll
    in between), the HTTPS one must match them byte for byte (Date aside)."""
    for _ in range(5):
        before, over_tls, after = (_raw_get(sock, path) for sock in (http, https, http))
        if before == after:
            assert over_tls == before, (path, over_tls[:300], before[:300])
            assert before.startswith(b"HTTP/1.1 200 ")
            return True
    return False


def _plain(running: Running) -> socket.socket:
    return socket.create_connection(("127.0.0.1", running.http_port), timeout=5)


def _tls(running: Running) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", running.https_port), timeout=5)
    return running.trust.wrap_socket(raw, server_hostname="127.0.0.1")


def _raw_get(sock: socket.socket, path: str) -> bytes:
    """One keep-alive GET; the whole response without its Date header."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        body += chunk
    assert len(body) == length, "nothing after the body: no pipelining here"
    head = re.sub(rb"(?im)^date: [^\r]*\r\n", b"", head + b"\r\n")
    return head + b"\r\n" + body


def test_wss_stream_and_sigterm_with_it_open(running: Running) -> None:
    url = f"wss://127.0.0.1:{running.https_port}/ws/aggregate"
    with connect(url, ssl=running.trust, open_timeout=5) as stream:
        first = json.loads(stream.recv(timeout=10))
        assert (first["v"], first["type"], first["stream"]) == (1, "snapshot", "aggregate")
        assert [gateway["id"] for gateway in first["data"]["gateways"]] == ["gw1", "gw2"]
        seconds = running.server.stop()
        assert seconds < 5, f"SIGTERM took {seconds:.1f} s\n{running.server.output()}"
    assert "Traceback" not in running.server.output()
