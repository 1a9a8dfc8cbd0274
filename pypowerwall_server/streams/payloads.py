"""What each stream carries, computed from the hub (pure reads, no I/O).

The aggregate stream carries site totals plus a compact line per gateway; the per-gateway
stream carries that gateway's full detail, embedding the very bytes the HTTP routes serve
(memoized per Snapshot, so nothing is encoded twice).
"""

from __future__ import annotations

from typing import Any

import orjson

from pypowerwall_server import aggregate
from pypowerwall_server.api import views
from pypowerwall_server.gateway.poller import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.models import VerbatimName, app_scale

POWER_KEYS = ("site", "battery", "load", "solar", "grid")
SOE_KEYS = ("percent_raw", "percent_app", "total_capacity_wh", "energy_remaining_wh")
GATEWAY_PARTS: tuple[VerbatimName, ...] = ("vitals", "strings", "alerts")
Fingerprint = tuple[tuple[GatewayState, bool], ...]


def fingerprint(hub: Hub, states: tuple[GatewayState, ...], now: float) -> Fingerprint:
    """Changes whenever a poller publishes or a gateway turns stale or fresh again."""
    return tuple((state, hub.is_fresh(state, now)) for state in states)


def newest_data_time(states: tuple[GatewayState, ...]) -> float | None:
    times = [s.snapshot.taken_at for s in states if s.snapshot is not None]
    return max(times) if times else None


def aggregate_payload(hub: Hub, now: float) -> dict[str, Any]:
    states = hub.states()
    fresh = [hub.is_fresh(s, now) for s in states]
    readings = [_reading(s, ok) for s, ok in zip(states, fresh, strict=True)]
    power = aggregate.aggregate_power(readings)
    soe = aggregate.aggregate_soe(readings)
    return {
        "power": {k: power[k] for k in POWER_KEYS} if power else None,
        "soe": {k: soe[k] for k in SOE_KEYS} if soe else None,
        "complete": all(fresh),
        "gateways": [_compact(s, r, ok) for s, r, ok in zip(states, readings, fresh, strict=True)],
    }


def _reading(state: GatewayState, fresh: bool) -> aggregate.GatewayReading:
    return aggregate.reading_of(state.gateway_id, fresh, state.snapshot)


def _compact(state: GatewayState, reading: aggregate.GatewayReading, fresh: bool) -> dict[str, Any]:
    soe = (
        100.0 * reading.remaining_wh / reading.full_pack_wh
        if reading.full_pack_wh and reading.remaining_wh is not None
        else None
    )
    return {
        "id": state.gateway_id,
        "name": state.name,
        "online": state.online,
        "stale": not fresh,
        "updated_at": reading.updated_at,
        "power": reading.power_w.as_dict() if reading.power_w else None,
        "soe_percent_app": app_scale(soe) if soe is not None else None,
        "grid_status": state.snapshot.readings.grid_status if state.snapshot else None,
    }


def gateway_payload(hub: Hub, gateway_id: str, now: float) -> dict[str, Any]:
    """GET /api/gateways/{id} (summary + detail) plus vitals, strings and alerts."""
    detail = views.gateway_detail(hub, gateway_id)
    summary: Any = (
        orjson.Fragment(detail.body)
        if detail.status == 200
        else {**views.gateway_summary(hub, hub.get(gateway_id), now), "data": None}
    )
    payload: dict[str, Any] = {"gateway": summary}
    for name in GATEWAY_PARTS:
        answer = views.gateway_call(hub, gateway_id, name)
        payload[name] = orjson.Fragment(answer.body) if answer.status == 200 else None
    return payload
