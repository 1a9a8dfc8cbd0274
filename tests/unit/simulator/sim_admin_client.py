"""Test-side helpers for driving a running simulator: a clock the test moves, and the admin
API's settings and calls (shared by the v1r and Fleet API integration tests)."""

from __future__ import annotations

from typing import Any

import requests

from pypowerwall_server.simulator.runner import RunningSimulator

# The settings a write can change (not the charge, which moves with time).
SETTING_KEYS = (
    "operating_mode",
    "backup_reserve_raw_percent",
    "grid_charging",
    "export_rule",
    "off_grid",
    "manual_backup",
)


class ManualClock:
    """The sites' clock: stands still until a test moves it (v1r signatures and manual
    backup events use the wall clock, not this one)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def admin_call(
    sim: RunningSimulator, method: str, path: str, body: Any = None
) -> requests.Response:
    return requests.request(
        method,
        f"{sim.admin_url}{path}",
        json=body,
        headers={"authorization": f"Bearer {sim.admin_token}"},
        timeout=5,
    )


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    """The JSON answer of an admin route that must succeed."""
    answer = admin_call(sim, method, path, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def settings(sim: RunningSimulator, gateway_id: str) -> dict[str, Any]:
    result: dict[str, Any] = admin(sim, "GET", f"/gateways/{gateway_id}/settings")["settings"]
    return result


def written(sim: RunningSimulator, gateway_id: str) -> dict[str, Any]:
    now = settings(sim, gateway_id)
    return {key: now[key] for key in SETTING_KEYS}
