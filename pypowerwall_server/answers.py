"""The read model: every answer HTTP and the WebSocket streams serve, computed from the hub's
state in one place that neither api/ nor streams/ owns (docs/architecture.md, data flow).

No FastAPI here, so the hot path (http/) and the declared routes (api/) call the very same
methods and give the same bytes. What depends only on a Snapshot (legacy bodies, gateway
detail, verbatim library values) is memoized on it: encoded once per poll. The site totals
are computed once per publish (`totals()`) and shared by /api/aggregate/* and the aggregate
stream, until the next publish or until a counted gateway turns stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pypowerwall_server import site_totals
from pypowerwall_server.encoded_answer import Answer, AnswerFn, error_answer, json_answer
from pypowerwall_server.errors import NoData, ServerError
from pypowerwall_server.freshness import FreshnessRule
from pypowerwall_server.gateway.readings import VERBATIM_CALLS
from pypowerwall_server.gateway_state import GatewayState
from pypowerwall_server.hub import Hub
from pypowerwall_server.legacy import (
    NOT_PROVIDED_HEADER,
    LegacyResponse,
    Unavailable,
    cache_key,
    render_legacy,
    why_not_provided,
)
from pypowerwall_server.models import VERBATIM_NAMES, LegacyOptions, Snapshot
from pypowerwall_server.untrusted import printable

NO_POWER = "no fresh power data"
NO_SOE = "no fresh battery data"


def guarded(compute: AnswerFn, plain_text: bool = False) -> Answer:
    """Turn our errors into their HTTP answers (the one mapping place for the hot path)."""
    try:
        return compute()
    except NoData as exc:
        return error_answer(exc.status_code, exc.message, exc.retry_after, plain_text)
    except ServerError as exc:
        return error_answer(exc.status_code, exc.message)


@dataclass(frozen=True, eq=False)
class Totals:
    """Site totals as of one publish: what /api/aggregate/* and the aggregate stream show."""

    states: tuple[GatewayState, ...]
    fresh: tuple[bool, ...]
    readings: tuple[site_totals.GatewayReading, ...]
    power: dict[str, Any] | None  # None: no fresh gateway with meter data
    soe: dict[str, Any] | None  # None: no fresh gateway with a battery
    retry_after: float  # for the 503 when a total is None
    generation: int
    valid_until: float  # the first counted gateway turns stale then
    _answers: dict[str, Answer] = field(default_factory=dict, repr=False)

    def answer(self, name: str, body: dict[str, Any] | None, empty: str) -> Answer:
        """The encoded body (once per Totals), or 503 + Retry-After without a total."""
        cached = self._answers.get(name)
        if cached is None:
            cached = (
                json_answer(body)
                if body is not None
                else error_answer(503, empty, self.retry_after)
            )
            self._answers[name] = cached
        return cached


class ReadModel:
    def __init__(self, hub: Hub, options: LegacyOptions) -> None:
        self.hub = hub
        self.options = options
        self.freshness: FreshnessRule = hub.freshness
        self._totals: Totals | None = None

    def fresh_snapshot(self, state: GatewayState) -> Snapshot:
        """The newest Snapshot if fresh now, else NoData (503): the one rule, freshness.py."""
        return self.freshness.fresh_snapshot(state, self.hub.clock())

    # --- legacy proxy routes -----------------------------------------------------------
    def legacy(self, gateway_id: str, path_and_query: str) -> Answer:
        plain = path_and_query.startswith("/csv")
        return guarded(lambda: self._legacy(gateway_id, path_and_query), plain)

    def _legacy(self, gateway_id: str, path_and_query: str) -> Answer:
        state = self.hub.get(gateway_id)
        key = cache_key(path_and_query)
        if key is None:
            unknown = printable(path_and_query.split("?")[0])
            return error_answer(404, f"unknown legacy path '{unknown}'")
        snapshot = self.fresh_snapshot(state)
        retry = self.freshness.retry_after(state)
        return snapshot.memo(f"legacy:{key}", self._legacy_renderer(path_and_query, retry))

    def _legacy_renderer(self, path_and_query: str, retry: float) -> Callable[[Snapshot], Answer]:
        options = self.options

        def render(snap: Snapshot) -> Answer:
            result = render_legacy(
                path_and_query, snap.calls, snap.attributes, options, snap.absent_polls
            )
            if result is None:
                return error_answer(404, "unknown legacy path")
            if isinstance(result, Unavailable):
                return error_answer(503, result.reason, retry, result.plain_text)
            return _from_legacy(result)

        return render

    def hot_legacy(self, gateway_id: str, path_and_query: str) -> AnswerFn:
        """The hot path's answer function for one legacy route of one gateway: a fresh
        Snapshot's memoized answer costs two dict lookups and a clock compare; everything
        else (first request per Snapshot, stale, no data) goes the general way."""
        memo_key = f"legacy:{cache_key(path_and_query)}"
        peek, clock, fresh_until = self.hub.peek, self.hub.clock, self.freshness.fresh_until

        def answer() -> Answer:
            state = peek(gateway_id)
            if state is not None and clock() <= fresh_until(state):
                snap = state.snapshot
                assert snap is not None  # fresh data exists
                cached: Answer | None = snap.cached(memo_key)
                if cached is not None:
                    return cached
            return self.legacy(gateway_id, path_and_query)

        return answer

    # --- our gateway API ---------------------------------------------------------------
    def summary(self, state: GatewayState, now: float) -> dict[str, Any]:
        snapshot = state.snapshot
        return {
            "id": state.gateway_id,
            "name": state.name,
            "mode": state.mode,
            "online": state.online,
            "last_updated": snapshot.taken_at if snapshot else None,
            "age_seconds": state.age(now),
            "stale": not self.freshness.is_fresh(state, now),
            "poll_interval": state.interval,
            "last_error": state.last_error,
            "problem": state.problem,
            "hint": state.hint,
            **_transport_summary(state),
        }

    def gateways_list(self) -> Answer:
        now = self.hub.clock()
        return json_answer({"gateways": [self.summary(s, now) for s in self.hub.states()]})

    def gateway_detail(self, gateway_id: str) -> Answer:
        def compute() -> Answer:
            state = self.hub.get(gateway_id)
            summary = self.summary(state, self.hub.clock())
            snapshot = self.fresh_snapshot(state)
            return json_answer({**summary, "data": snapshot.memo("detail", _gateway_data)})

        return guarded(compute)

    def gateway_data(self, gateway_id: str, name: str) -> Answer:
        """The library's own value for one of the VERBATIM_NAMES, as of the newest poll."""

        def compute() -> Answer:
            state = self.hub.get(gateway_id)
            if name not in VERBATIM_NAMES:
                known = ", ".join(VERBATIM_NAMES)
                return error_answer(
                    404, f"unknown data name '{printable(name, 100)}'; one of {known}"
                )
            snapshot = self.fresh_snapshot(state)
            retry = self.freshness.retry_after(state)

            def encode(snap: Snapshot) -> Answer:
                value = snap.readings.verbatim.get(name)
                if value is None:
                    call = VERBATIM_CALLS[name]
                    why = why_not_provided(call, snap.calls, snap.attributes, snap.absent_polls)
                    if why is not None:  # never coming: not a 503 to retry for ever
                        return Answer(200, b"null", headers=((NOT_PROVIDED_HEADER, why),))
                    return error_answer(503, f"gateway gave no {name} data", retry)
                return Answer(200, orjson.dumps(value))

            return snapshot.memo(f"data:{name}", encode)

        return guarded(compute)

    # --- site totals -------------------------------------------------------------------
    def totals(self) -> Totals:
        """Valid until the hub publishes (generation) or a counted gateway turns stale."""
        hub, now = self.hub, self.hub.clock()
        cached = self._totals
        if cached is not None and cached.generation == hub.generation and now <= cached.valid_until:
            return cached
        states = hub.states()
        fresh = tuple(self.freshness.is_fresh(s, now) for s in states)
        readings = tuple(
            site_totals.reading_of(s.gateway_id, ok, s.snapshot)
            for s, ok in zip(states, fresh, strict=True)
        )
        self._totals = Totals(
            states=states,
            fresh=fresh,
            readings=readings,
            power=site_totals.aggregate_power(readings),
            soe=site_totals.aggregate_soe(readings),
            retry_after=min(self.freshness.retry_after(s) for s in states),
            generation=hub.generation,
            valid_until=_first_to_turn_stale(self.freshness, states, fresh),
        )
        return self._totals

    def cache_size(self) -> tuple[int, int]:
        """(entries, body bytes) of the encoded aggregate answers, for /stats."""
        answers = list(self._totals._answers.values()) if self._totals is not None else []
        return len(answers), sum(len(a.body) for a in answers)

    def aggregate_power(self) -> Answer:
        totals = self.totals()
        return totals.answer("power", totals.power, NO_POWER)

    def aggregate_soe(self) -> Answer:
        totals = self.totals()
        return totals.answer("soe", totals.soe, NO_SOE)

    def aggregate_status(self) -> Answer:
        now = self.hub.clock()
        summaries = [self.summary(s, now) for s in self.hub.states()]
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


def _first_to_turn_stale(
    rule: FreshnessRule, states: Sequence[GatewayState], fresh: Sequence[bool]
) -> float:
    return min(
        (rule.fresh_until(s) for s, ok in zip(states, fresh, strict=True) if ok),
        default=float("inf"),
    )


def _transport_summary(state: GatewayState) -> dict[str, Any]:
    """Which transport serves this gateway and how the others fare (gateway/transports.py)."""
    status = state.transport
    if status is None:
        return {"degraded": False, "transport": None}
    return {"degraded": status.degraded is not None, "transport": status.as_dict()}


def _from_legacy(result: LegacyResponse) -> Answer:
    return Answer(result.status, result.body, result.content_type, result.headers)


def _gateway_data(snapshot: Snapshot) -> dict[str, Any]:
    r = snapshot.readings
    return {
        "power_w": r.power_w.as_dict() if r.power_w is not None else None,
        "soe": {
            "percent_raw": r.soe_percent_raw,
            "percent_app": r.soe_percent_app,
            "capacity_wh": r.capacity_wh,
            "capacity_source": r.capacity_source,
            "energy_remaining_wh": r.energy_remaining_wh,
        },
        "grid_status": r.grid_status,
        "backup_reserve_percent_app": r.backup_reserve_percent_app,
        "operating_mode": r.operating_mode,
        "time_remaining_hours": r.time_remaining_hours,
        "firmware_version": r.firmware_version,
        "site_name": r.site_name,
        "transport": snapshot.attributes.transport,  # which transport this data came from
    }
