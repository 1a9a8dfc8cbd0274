"""Project-wide test helpers.

System dependencies (a wrk, mosquitto or chromium binary) are checked with
`require_tool`: on a developer machine a missing one skips the test with the install hint;
in CI (`.ci/run` sets PPS_REQUIRE_SYSTEM_DEPS=1) it fails, so nothing passes by skipping.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# Servers keep history in their data folder (default under ~): tests must never write into
# the user's home, nor share one history file (and its lock) with another test run.
os.environ["HOME"] = tempfile.mkdtemp(prefix="pps-test-home-")


@pytest.fixture(autouse=True)
def _own_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test's servers get their own default data folder (and history file)."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


def require_tool(name: str, install_hint: str) -> str:
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} not found: {install_hint}"
    if os.environ.get("PPS_REQUIRE_SYSTEM_DEPS") == "1":
        pytest.fail(message)
    pytest.skip(message)


# The test files that take longest, started first: `make test` runs pytest-xdist with
# `--dist loadfile --no-loadscope-reorder`, where each worker takes the next file whenever
# it finishes one, so long files run beside the many short ones, not after them (the
# wheel build alone took a minute at the end of a run). Then the other files that start
# servers, then the socket-free ones. Order within a file is kept.
STARTED_FIRST = (
    "integration/test_wheel_install.py",
    "api/test_openapi_fuzz.py",
    "browser/test_flow_page.py",
    "integration/test_control_v1r.py",
    "integration/test_transport_failover.py",
    "integration/test_log_injection.py",
    "unit/simulator/test_simulate_cli.py",
    "mqtt/test_mqtt_publisher.py",
    "integration/test_demo.py",
)
TESTS = os.path.dirname(os.path.abspath(__file__))


def start_rank(item: pytest.Item) -> int:
    path = os.path.relpath(str(item.path), TESTS)
    if path in STARTED_FIRST:
        return STARTED_FIRST.index(path)
    starts_servers = item.get_closest_marker("integration") or item.get_closest_marker("browser")
    return len(STARTED_FIRST) + (0 if starts_servers else 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=start_rank)  # stable: each file's tests stay together and in order
