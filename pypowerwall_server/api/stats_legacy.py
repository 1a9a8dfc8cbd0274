"""The legacy proxy's /stats keys that describe its machinery (connection_health,
fallback_mode, mem_cache), filled with what is true of ours for the default gateway.

The proxy counted library calls and cached degraded answers; we count polls and keep one
immutable Snapshot per gateway whose answers are encoded once. Same keys, our facts: no
value here is invented to look like the proxy's.
"""

from __future__ import annotations

from typing import Any

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub

MB = 1024 * 1024


def connection_health(state: GatewayState) -> dict[str, Any]:
    """Polls of the default gateway: failed, succeeded, and whether it is down now."""
    snapshot = state.snapshot
    return {
        "consecutive_failures": state.consecutive_failures,
        "total_failures": state.failures,
        "total_successes": state.polls - state.failures,
        "is_degraded": not state.online,  # answers come from the last good poll, if fresh
        "last_success_time": snapshot.taken_at if snapshot else None,
        "cache_size": snapshot.memo_size()[0] if snapshot else 0,
    }


def fallback_mode(state: GatewayState) -> dict[str, Any]:
    """We never fall back to another mode (each gateway keeps its configured one); the
    poller retries a gateway that is down on every tick or backoff, always."""
    down = state.consecutive_failures > 0
    return {
        "is_fallback_mode": False,
        "fallback_since": None,
        "fallback_duration_seconds": None,
        "recovery_attempts": state.consecutive_failures,
        "last_recovery_attempt": state.last_attempt if down else None,
        "recovery_enabled": True,
    }


def mem_cache(hub: Hub, aggregates: ReadModel) -> dict[str, Any]:
    """Our caches: the encoded answers memoized on each gateway's current Snapshot, and the
    aggregate answers."""
    snapshots = [s.snapshot.memo_size() for s in hub.states() if s.snapshot is not None]
    snapshot_entries = sum(entries for entries, _ in snapshots)
    snapshot_bytes = sum(size for _, size in snapshots)
    aggregate_entries, aggregate_bytes = aggregates.cache_size()
    total = snapshot_bytes + aggregate_bytes
    return {
        "snapshot_answers": {"entries": snapshot_entries, "size_bytes": snapshot_bytes},
        "aggregate_answers": {"entries": aggregate_entries, "size_bytes": aggregate_bytes},
        "total_cache_bytes": total,
        "total_cache_mb": round(total / MB, 2),
    }
