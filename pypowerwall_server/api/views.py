"""Answers computed from the hub's state: no FastAPI here, so the fast path and the declared
routes call the very same functions. Bodies that depend only on a Snapshot are memoized on
it (encoded once per poll); aggregate bodies until the next publish or staleness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from pypowerwall_server import aggregate
from pypowerwall_server.api.answer import Answer, error_answer, json_answer
from pypowerwall_server.errors import NoData, ServerError
from pypowerwall_server.gateway.poller import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.legacy import LegacyResponse, cache_key, render_legacy
from pypowerwall_server.legacy import NoData as LegacyNoData
from pypowerwall_server.legacy.derivations import make_view
from pypowerwall_server.models import LegacyOptions, Snapshot
from pypowerwall_server.untrusted import printable

# Our per-gateway data routes: name -> the library call whose result they serve.
GATEWAY_DATA_CALLS = {
    "vitals": "vitals()",
    "aggregates": "poll('/api/meters/aggregates')",
    "strings": "strings()",
    "alerts": "alerts()",
    "status": "status()",
}


def retry_after(state: GatewayState) -> float:
    return max(1.0, state.interval)


def fresh_snapshot(hub: Hub, state: GatewayState) -> Snapshot:
    """The newest Snapshot if it is within the stale limit, else NoData (503)."""
    snapshot = state.snapshot
    if snapshot is None:
        raise NoData(f"no data yet from gateway '{state.gateway_id}'", retry_after(state))
    if not hub.is_fresh(state):
        age = round(hub.clock() - snapshot.taken_at, 1)
        raise NoData(
            f"data from gateway '{state.gateway_id}' is {age} s old (stale)", retry_after(state)
        )
    return snapshot


def guarded(compute: Callable[[], Answer], plain_text: bool = False) -> Answer:
    """Turn our errors into their HTTP answers (the one mapping place for the fast path)."""
    try:
        return compute()
    except NoData as exc:
        return error_answer(exc.status_code, exc.message, exc.retry_after, plain_text)
    except ServerError as exc:
        return error_answer(exc.status_code, exc.message)


# --- legacy proxy routes ---------------------------------------------------------------
def legacy(hub: Hub, gateway_id: str, path_and_query: str, options: LegacyOptions) -> Answer:
    plain = path_and_query.startswith("/csv")
    return guarded(lambda: _legacy(hub, gateway_id, path_and_query, options), plain)


def _legacy(hub: Hub, gateway_id: str, path_and_query: str, options: LegacyOptions) -> Answer:
    state = hub.get(gateway_id)
    key = cache_key(path_and_query)
    if key is None:
        return error_answer(404, f"unknown legacy path '{printable(path_and_query.split('?')[0])}'")
    snapshot = fresh_snapshot(hub, state)
    render = _legacy_renderer(path_and_query, options, retry_after(state))
    return snapshot.memo(f"legacy:{key}", render)


def _legacy_renderer(
    path_and_query: str, options: LegacyOptions, retry: float
) -> Callable[[Snapshot], Answer]:
    def render(snap: Snapshot) -> Answer:
        result = render_legacy(path_and_query, snap.calls, snap.attributes, options)
        if result is None:
            return error_answer(404, "unknown legacy path")
        if isinstance(result, LegacyNoData):
            return error_answer(503, result.reason, retry, result.plain_text)
        return _from_legacy(result)

    return render


def hot_legacy(
    hub: Hub, gateway_id: str, path_and_query: str, options: LegacyOptions
) -> Callable[[], Answer]:
    """The fast path's answer function for one legacy route of one gateway: a fresh
    Snapshot's memoized answer costs two dict lookups and a clock compare; everything else
    (first request per Snapshot, stale, no data) goes the general way."""
    key = cache_key(path_and_query)
    memo_key = f"legacy:{key}"
    limit_factor = hub.stale_after_intervals
    clock = hub.clock

    def answer() -> Answer:
        state = hub.peek(gateway_id)
        if state is not None:
            snap = state.snapshot
            if snap is not None and clock() - snap.taken_at <= limit_factor * state.interval:
                cached: Answer | None = snap.cached(memo_key)
                if cached is not None:
                    return cached
        return legacy(hub, gateway_id, path_and_query, options)

    return answer


def _from_legacy(result: LegacyResponse) -> Answer:
    return Answer(result.status, result.body, result.content_type)


# --- our gateway API -------------------------------------------------------------------
def gateway_summary(hub: Hub, state: GatewayState, now: float) -> dict[str, Any]:
    snapshot = state.snapshot
    return {
        "id": state.gateway_id,
        "name": state.name,
        "mode": state.mode,
        "online": state.online,
        "last_updated": snapshot.taken_at if snapshot else None,
        "age_seconds": state.age(now),
        "stale": not hub.is_fresh(state, now),
        "poll_interval": state.interval,
        "last_error": state.last_error,
        "problem": state.problem,
        "hint": state.hint,
    }


def gateways_list(hub: Hub) -> Answer:
    now = hub.clock()
    return json_answer({"gateways": [gateway_summary(hub, s, now) for s in hub.states()]})


def gateway_detail(hub: Hub, gateway_id: str) -> Answer:
    def compute() -> Answer:
        state = hub.get(gateway_id)
        summary = gateway_summary(hub, state, hub.clock())
        snapshot = fresh_snapshot(hub, state)
        return json_answer({**summary, "data": snapshot.memo("detail", _gateway_data)})

    return guarded(compute)


def _gateway_data(snapshot: Snapshot) -> dict[str, Any]:
    calls = snapshot.calls
    reading = aggregate.reading_from_calls(snapshot.gateway_id, True, snapshot.taken_at, calls)
    level = calls.get("level()")
    return {
        "power_w": reading.power_w,
        "soe": {
            "percent_raw": level,
            "percent_app": aggregate.app_scale(level) if isinstance(level, int | float) else None,
            "capacity_wh": reading.full_pack_wh,
            "energy_remaining_wh": reading.remaining_wh,
        },
        "grid_status": calls.get("grid_status('string')"),
        "backup_reserve_percent_app": calls.get("get_reserve()"),
        "operating_mode": calls.get("get_mode()"),
        "time_remaining_hours": calls.get("get_time_remaining()"),
        "firmware_version": calls.get("version()") or None,  # TEDAPI may say ""
        "site_name": calls.get("site_name()"),
    }


def gateway_call(hub: Hub, gateway_id: str, name: str) -> Answer:
    call = GATEWAY_DATA_CALLS.get(name)

    def compute() -> Answer:
        state = hub.get(gateway_id)
        if call is None:
            known = ", ".join(GATEWAY_DATA_CALLS)
            return error_answer(404, f"unknown data name '{printable(name, 100)}'; one of {known}")
        snapshot = fresh_snapshot(hub, state)

        def encode(snap: Snapshot) -> Answer:
            value = make_view(snap.calls).get(call)  # polled, or derived (alerts, sorted)
            if value is None:
                return error_answer(503, f"gateway gave no {name} data", retry_after(state))
            return Answer(200, orjson.dumps(value))

        return snapshot.memo(f"data:{name}", encode)

    return guarded(compute)


# --- aggregate API ---------------------------------------------------------------------
class AggregateViews:
    """Memoizes each aggregate body until the hub publishes or a counted gateway turns stale."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._cache: dict[str, tuple[int, float, Answer]] = {}

    def power(self) -> Answer:
        return self._memo("power", aggregate.aggregate_power, "no fresh power data")

    def soe(self) -> Answer:
        return self._memo("soe", aggregate.aggregate_soe, "no fresh battery data")

    def status(self) -> Answer:
        hub, now = self._hub, self._hub.clock()
        summaries = [gateway_summary(hub, s, now) for s in hub.states()]
        fresh = sum(1 for s in summaries if not s["stale"])
        return json_answer(
            {
                "gateways": summaries,
                "total": len(summaries),
                "fresh": fresh,
                "stale": len(summaries) - fresh,
                "online": sum(1 for s in summaries if s["online"]),
            }
        )

    def cache_size(self) -> tuple[int, int]:
        """(entries, body bytes) of the memoized aggregate answers, for /stats."""
        answers = [entry[2] for entry in list(self._cache.values())]
        return len(answers), sum(len(a.body) for a in answers)

    def _memo(self, name: str, compute: Callable[..., Any], empty: str) -> Answer:
        """Valid until the hub publishes (generation) or a counted gateway turns stale."""
        hub, now = self._hub, self._hub.clock()
        cached = self._cache.get(name)
        if cached is not None and cached[0] == hub.generation and now <= cached[1]:
            return cached[2]
        states = hub.states()
        fresh = [hub.is_fresh(s, now) for s in states]
        readings = [
            aggregate.reading_from_calls(s.gateway_id, ok, s.snapshot.taken_at, s.snapshot.calls)
            if s.snapshot is not None
            else aggregate.GatewayReading(s.gateway_id, False, None, None, None, None)
            for s, ok in zip(states, fresh, strict=True)
        ]
        body = compute(readings)
        interval = min(s.interval for s in states)
        answer = json_answer(body) if body is not None else error_answer(503, empty, interval)
        valid_until = min(
            (hub.fresh_until(s) for s, ok in zip(states, fresh, strict=True) if ok),
            default=float("inf"),
        )
        self._cache[name] = (hub.generation, valid_until, answer)
        return answer
