"""The legacy proxy's /stats keys that describe its machinery (connection_health,
fallback_mode, mem_cache), filled with what is true of ours for the default gateway.

The proxy counted library calls and cached degraded answers; we count polls and keep one
immutable Snapshot per gateway whose answers are encoded once. Same keys, our facts: no
value here is invented to look like the proxy's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

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


def mem_cache(
    hub: Hub, aggregates: ReadModel, routes: Mapping[str, Mapping[str, int]]
) -> dict[str, Any]:
    """The proxy's keys, in its order, each the structure of ours that does that job; then
    ours by name. The proxy's degradation cache (answers kept for when the gateway fails)
    is our Snapshots' encoded answers; its performance cache, our aggregate answers. Sizes
    of the counting structures are the bytes of their JSON."""
    snapshots = [s.snapshot.memo_size() for s in hub.states() if s.snapshot is not None]
    snapshot = _entry(sum(n for n, _ in snapshots), sum(size for _, size in snapshots))
    aggregate = _entry(*aggregates.cache_size())
    errors = {route: count["errors"] for route, count in routes.items() if count["errors"]}
    failing = {s.gateway_id: s.last_error for s in hub.states() if s.consecutive_failures}
    structures = {
        "error_counts": _entry(len(errors), len(orjson.dumps(errors)) if errors else 0),
        "network_error_summary": _entry(len(failing), len(orjson.dumps(failing)) if failing else 0),
        "degradation_cache": snapshot,
        "performance_cache": aggregate,
        "endpoint_stats": _entry(len(routes), len(orjson.dumps(routes)) if routes else 0),
    }
    total = sum(entry["size_bytes"] for entry in structures.values())
    return {
        **structures,
        "total_cache_bytes": total,
        "total_cache_mb": round(total / MB, 2),
        "snapshot_answers": snapshot,
        "aggregate_answers": aggregate,
    }


def _entry(entries: int, size_bytes: int) -> dict[str, int]:
    return {"entries": entries, "size_bytes": size_bytes}
