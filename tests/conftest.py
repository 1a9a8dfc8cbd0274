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
