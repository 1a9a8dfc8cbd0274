"""What each stream carries, read from the read model (answers.py; pure reads, no I/O).

The aggregate stream carries the site totals the HTTP routes serve (computed once per
publish) plus a compact line per gateway; the per-gateway stream carries that gateway's full
detail, embedding the very bytes the HTTP routes serve (memoized per Snapshot, so nothing is
encoded twice).
"""

from __future__ import annotations

from typing import Any

import orjson

from pypowerwall_server.answers import ReadModel
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.models import VerbatimName, app_scale
from pypowerwall_server.site_totals import GatewayReading

POWER_KEYS = ("site", "battery", "load", "solar", "grid")
SOE_KEYS = ("percent_raw", "percent_app", "total_capacity_wh", "energy_remaining_wh")
GATEWAY_PARTS: tuple[VerbatimName, ...] = ("vitals", "strings", "alerts")
Fingerprint = tuple[tuple[GatewayState, bool], ...]


def fingerprint(model: ReadModel, states: tuple[GatewayState, ...], now: float) -> Fingerprint:
    """Changes whenever a poller publishes or a gateway turns stale or fresh again."""
    return tuple((state, model.freshness.is_fresh(state, now)) for state in states)


def newest_data_time(states: tuple[GatewayState, ...]) -> float | None:
    times = [s.snapshot.taken_at for s in states if s.snapshot is not None]
    return max(times) if times else None


def aggregate_payload(model: ReadModel) -> dict[str, Any]:
    totals = model.totals()
    power, soe = totals.power, totals.soe
    return {
        "power": {k: power[k] for k in POWER_KEYS} if power else None,
        "soe": {k: soe[k] for k in SOE_KEYS} if soe else None,
        "complete": all(totals.fresh),
        "gateways": [
            _compact(s, r, ok)
            for s, r, ok in zip(totals.states, totals.readings, totals.fresh, strict=True)
        ],
    }


def _compact(state: GatewayState, reading: GatewayReading, fresh: bool) -> dict[str, Any]:
    soe = (
        100.0 * reading.remaining_wh / reading.full_pack_wh
        if reading.full_pack_wh and reading.remaining_wh is not None
        else reading.soe_percent_raw
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


def gateway_payload(model: ReadModel, gateway_id: str, now: float) -> dict[str, Any]:
    """GET /api/gateways/{id} (summary + detail) plus vitals, strings and alerts."""
    detail = model.gateway_detail(gateway_id)
    summary: Any = (
        orjson.Fragment(detail.body)
        if detail.status == 200
        else {**model.summary(model.hub.get(gateway_id), now), "data": None}
    )
    payload: dict[str, Any] = {"gateway": summary}
    for name in GATEWAY_PARTS:
        answer = model.gateway_data(gateway_id, name)
        payload[name] = orjson.Fragment(answer.body) if answer.status == 200 else None
    return payload
