"""The one freshness rule (docs/architecture.md, decision 4): a gateway's data is fresh until
`stale_after_intervals` poll intervals after it was taken; after that it is stale, and
before the first poll it is missing. Stale and missing data is answered 503 with a
Retry-After of one poll interval. The hub, the HTTP answers (hot path included) and the
streams all ask this rule."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pypowerwall_server.errors import NoData
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.models import Snapshot


class Freshness(enum.Enum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class FreshnessRule:
    stale_after_intervals: float

    def fresh_until(self, state: GatewayState) -> float:
        """The moment this state's data turns stale (-inf without data)."""
        if state.snapshot is None:
            return float("-inf")
        return state.snapshot.taken_at + self.stale_after_intervals * state.interval

    def is_fresh(self, state: GatewayState, now: float) -> bool:
        return now <= self.fresh_until(state)

    def judge(self, state: GatewayState, now: float) -> Freshness:
        if state.snapshot is None:
            return Freshness.MISSING
        return Freshness.FRESH if self.is_fresh(state, now) else Freshness.STALE

    @staticmethod
    def retry_after(state: GatewayState) -> float:
        """When to ask again: the next poll is due within one interval."""
        return max(1.0, state.interval)

    def fresh_snapshot(self, state: GatewayState, now: float) -> Snapshot:
        """The newest Snapshot if it is fresh, else NoData (503 + Retry-After)."""
        verdict = self.judge(state, now)
        if verdict is Freshness.FRESH:
            assert state.snapshot is not None
            return state.snapshot
        gid = state.gateway_id
        if verdict is Freshness.MISSING:
            raise NoData(f"no data yet from gateway '{gid}'", self.retry_after(state))
        age = round(now - state.snapshot.taken_at, 1) if state.snapshot else None
        raise NoData(f"data from gateway '{gid}' is {age} s old (stale)", self.retry_after(state))
