"""The one freshness rule: fresh / stale / missing and the Retry-After."""

from __future__ import annotations

import pytest

from pypowerwall_server.errors import NoData
from pypowerwall_server.freshness import Freshness, FreshnessRule
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import GatewayAttributes, Readings, Snapshot

ATTRS = GatewayAttributes("local", False, False, False, False, "off", None, "0")
RULE = FreshnessRule(stale_after_intervals=3)


def state(taken_at: float | None, interval: float = 5.0) -> GatewayState:
    snap = None if taken_at is None else Snapshot("gw", taken_at, {}, {}, ATTRS, Readings())
    return GatewayState("gw", "gw", "local", interval, snapshot=snap)


@pytest.mark.parametrize(
    ("taken_at", "now", "verdict"),
    [
        (None, 1000.0, Freshness.MISSING),
        (1000.0, 1000.0, Freshness.FRESH),
        (1000.0, 1015.0, Freshness.FRESH),  # exactly 3 intervals old: still fresh
        (1000.0, 1015.1, Freshness.STALE),
    ],
)
def test_verdicts(taken_at, now, verdict):
    assert RULE.judge(state(taken_at), now) is verdict
    assert RULE.is_fresh(state(taken_at), now) is (verdict is Freshness.FRESH)


def test_fresh_snapshot_or_503_with_retry_after_of_one_interval():
    fresh = state(1000.0)
    assert RULE.fresh_snapshot(fresh, 1001.0) is fresh.snapshot
    with pytest.raises(NoData, match="no data yet") as missing:
        RULE.fresh_snapshot(state(None, interval=10.0), 1000.0)
    assert missing.value.retry_after == 10.0
    with pytest.raises(NoData, match=r"is 20.0 s old \(stale\)") as stale:
        RULE.fresh_snapshot(fresh, 1020.0)
    assert stale.value.retry_after == 5.0
    assert FreshnessRule.retry_after(state(None, interval=0.2)) == 1.0  # never below 1 s


def test_hub_asks_the_rule():
    clock = [1000.0]
    hub = Hub([state(1000.0)], stale_after_intervals=3, clock=lambda: clock[0])
    assert hub.freshness == RULE
    assert hub.is_fresh(hub.get("gw")) is True
    clock[0] = 1016.0
    assert hub.is_fresh(hub.get("gw")) is False
