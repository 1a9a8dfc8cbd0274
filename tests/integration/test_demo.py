"""The demo entry point starts as a user runs it and serves live, changing data."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .server_process import free_port, without_pw_variables

pytestmark = pytest.mark.integration  # starts a server or the simulator


@pytest.fixture
def demo_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pypowerwall_server", "--demo", "--port", str(port)],
        env=without_pw_variables(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def get_when_ready(url: str, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=10)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s")


def get_when_complete(url: str, timeout: float = 60.0) -> dict[str, object]:
    """The aggregate answers 200 once any gateway has data; wait until both have."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, object] = get_when_ready(url, timeout).json()
        if body["complete"] is True:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} was not complete within {timeout} s")


def test_demo_serves_live_changing_data(demo_url: str) -> None:
    first: Any = get_when_complete(f"{demo_url}/api/aggregate/power")
    assert [g["id"] for g in first["gateways"]] == ["home", "cabin"]
    assert first["load"] == pytest.approx(first["site"] + first["battery"] + first["solar"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        later = httpx.get(f"{demo_url}/api/aggregate/power", timeout=10).json()
        if later["gateways"][0]["updated_at"] != first["gateways"][0]["updated_at"]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("demo data did not change within 20 s")
    assert later != first
    health = httpx.get(f"{demo_url}/health", timeout=10).json()
    assert health["status"] == "healthy"
    csv = httpx.get(f"{demo_url}/gw/cabin/csv/v2?headers", timeout=10).text.splitlines()
    assert csv[0] == "Grid,Home,Solar,Battery,BatteryLevel,GridStatus,Reserve"
    assert len(csv[1].split(",")) == 7


def test_demo_prints_a_token_once_and_its_curl_line_writes(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pypowerwall_server", "--demo", "--port", str(port)],
            env=without_pw_variables(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            get_when_complete(f"{url}/api/aggregate/power")
            printed = re.findall(r"Bearer ([A-Za-z0-9_-]+)'", log_path.read_text())
            assert len(printed) == 1  # once, at start
            token = printed[0]
            overview = httpx.get(f"{url}/api/control", timeout=10).json()
            assert overview["enabled"] is True
            assert {g["transport"] for g in overview["gateways"].values()} == {"v1r"}
            answer = httpx.post(
                f"{url}/control/reserve",
                json={"value": 50},
                headers={"Authorization": f"Bearer {token}"},
                timeout=15,
            )
            assert answer.status_code == 200 and answer.json()["status"] == "applied"
            assert httpx.get(f"{url}/control/reserve", timeout=10).json() == {"reserve": 50}
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert log_path.read_text().count(token) == 1  # the log lines never show it


def test_a_second_demo_on_a_taken_port_prints_no_url_or_token(tmp_path: Path) -> None:
    """The port is checked first: no URL, no new token, then 'address already in use'; it
    says so and which --port to use instead."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pypowerwall_server", "--demo", "--port", str(port)],
            env=without_pw_variables(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "--port " in output and "Traceback" not in output
    assert "http://" not in output and "Bearer" not in output
