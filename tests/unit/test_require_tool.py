"""The CI switch: a missing system dependency fails instead of skipping."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool


def test_present_tool_is_returned() -> None:
    assert require_tool("sh", "apt-get install dash").endswith("sh")


def test_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPS_REQUIRE_SYSTEM_DEPS", "1")
    with pytest.raises(pytest.fail.Exception, match="no-such-tool-xyz not found"):
        require_tool("no-such-tool-xyz", "install it")


def test_missing_tool_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PPS_REQUIRE_SYSTEM_DEPS", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_tool("no-such-tool-xyz", "install it")
