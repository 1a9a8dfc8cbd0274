"""The demo entry point starts as a user runs it and serves live, changing data."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
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


def get_when_ready(url: str, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s")


def get_when_complete(url: str, timeout: float = 30.0) -> dict[str, object]:
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
        later = httpx.get(f"{demo_url}/api/aggregate/power", timeout=2).json()
        if later["gateways"][0]["updated_at"] != first["gateways"][0]["updated_at"]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("demo data did not change within 20 s")
    assert later != first
    health = httpx.get(f"{demo_url}/health", timeout=2).json()
    assert health["status"] == "healthy"
    csv = httpx.get(f"{demo_url}/gw/cabin/csv/v2?headers", timeout=2).text.splitlines()
    assert csv[0] == "Grid,Home,Solar,Battery,BatteryLevel,GridStatus,Reserve"
    assert len(csv[1].split(",")) == 7
