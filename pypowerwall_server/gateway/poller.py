"""One Poller per gateway: the gateway sets the pace, not the clients (docs/architecture.md,
decisions 2, 3).

Each tick makes the fast calls (and the slow ones when due, or at once when asked with
`refresh_slow_tier`) on the gateway's serial worker (gateway/worker.py), at most one poll in
flight per gateway; the supervisor (gateway/supervisor.py) builds and runs the pollers. A
poll that outlives its timeout keeps its thread busy until the library's own timeout ends
it; the poller skips ticks rather than stacking calls.
Success yields a new immutable Snapshot; failure keeps the last one (it grows stale), backs
off with jitter, and logs an outage once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Any

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayError, GatewayUnreachable
from pypowerwall_server.gateway.protocol import GatewayAdapter, OrderedTransports
from pypowerwall_server.gateway.readings import readings_from_calls
from pypowerwall_server.gateway.units import status_source, units_disagree_with_meter
from pypowerwall_server.gateway_state import GatewayState as GatewayState  # re-exported
from pypowerwall_server.models import GatewayAttributes, Readings, Snapshot

log = logging.getLogger(__name__)

MAX_BUSY_BACKOFF_S = 60.0  # after 429/503: the gateway asked us to slow down
AUTH_BACKOFF_S = 60.0  # first retry after a refused password: minutes, not intervals,
MAX_AUTH_BACKOFF_S = 300.0  # since repeated wrong-password logins can lock the account out
SLOW_TIER_INTERVAL_S = 300.0
EARLY_WAKE_S = 0.005  # timers fire up to ~1 ms early (uvloop: ms resolution)


@dataclass(frozen=True, slots=True)
class PollPlan:
    fast_calls: tuple[str, ...]
    slow_calls: tuple[str, ...]
    slow_interval: float = SLOW_TIER_INTERVAL_S


class Poller:
    def __init__(
        self,
        state: GatewayState,
        adapter: GatewayAdapter,
        executor: Executor,
        plan: PollPlan,
        publish: Callable[[GatewayState], None],
        poll_timeout: float,
        clock: Callable[[], float] = time.time,
        on_start: Callable[[str], None] | None = None,
        phase: float = 0.0,
    ) -> None:
        self.state = state
        self._adapter = adapter
        self._executor = executor
        self._plan = plan
        self._publish = publish
        self._poll_timeout = poll_timeout
        self._clock = clock
        self._on_start = on_start  # told when a poll begins (Hub.poll_started)
        self._phase = phase  # s after each grid point (schedule.poll_phases)
        self._attributes: GatewayAttributes | None = None
        self._units_problem: str | None = None
        self._slow_due_at = 0.0
        self._in_flight: Future[Any] | None = None
        self._wakeup = asyncio.Event()
        # Callers waiting for a slow-tier poll that starts after their request.
        self._slow_waiters: list[asyncio.Future[GatewayState]] = []

    def refresh_slow_tier(self) -> asyncio.Future[GatewayState]:
        """Poll the slow tier too, as soon as the gateway's worker is free (e.g. after a
        control write). The future resolves with the state published by that poll (online
        or not), which started after this request."""
        waiter: asyncio.Future[GatewayState] = asyncio.get_running_loop().create_future()
        self._slow_waiters.append(waiter)
        self._wakeup.set()
        return waiter

    async def run(self) -> None:
        while True:
            started = self._clock()
            if self._in_flight is not None and not self._in_flight.done():
                delay = self.state.interval  # a hung call still holds the worker: skip the tick
            else:
                delay = await self._poll_once(started)
            await self._sleep(max(0.0, started + delay - self._clock()))

    async def _sleep(self, seconds: float) -> None:
        busy = self._in_flight is not None and not self._in_flight.done()
        if self._slow_waiters and not busy:
            return  # a slow-tier refresh is waiting
        self._wakeup.clear()
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # races with completion, and the poller would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()

    async def _poll_once(self, started: float) -> float:
        waiters, self._slow_waiters = self._slow_waiters, []
        include_slow = started >= self._slow_due_at or bool(waiters)
        calls = self._plan.fast_calls + (self._plan.slow_calls if include_slow else ())
        try:
            return await self._poll_calls(started, calls, include_slow)
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(self.state)

    async def _poll_calls(
        self, started: float, calls: tuple[str, ...], include_slow: bool
    ) -> float:
        if self._on_start is not None:
            self._on_start(self.state.gateway_id)
        future = self._executor.submit(self._fetch, calls)
        self._in_flight = future
        try:
            async with asyncio.timeout(self._poll_timeout):
                results = await asyncio.wrap_future(future)
        except TimeoutError:
            error: GatewayError = GatewayUnreachable("gateway did not answer in time")
        except GatewayError as exc:
            error = exc
        except Exception as exc:  # a bug must not end polling; log it once per occurrence
            log.exception("gateway %s: unexpected poll error", self.state.gateway_id)
            error = GatewayUnreachable(f"internal error: {type(exc).__name__}")
        else:
            if include_slow:
                self._slow_due_at = started + self._plan.slow_interval
            self._on_success(started, results)
            return self._until_next_tick(started)
        self._on_failure(started, error)
        return self._retry_delay(error)

    def _fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        """Runs in a worker thread."""
        if self._attributes is None:
            self._attributes = self._adapter.connect()
        results = self._adapter.fetch(calls)
        if isinstance(self._adapter, OrderedTransports):  # the transport that answered
            self._attributes = self._adapter.attributes()
        return results

    def _transport_fields(self) -> dict[str, Any]:
        """A transport chain's status and the active transport's pace, for the state."""
        chain = self._adapter
        if not isinstance(chain, OrderedTransports):
            return {}
        return {"transport": chain.status(), "interval": chain.interval}

    def _on_success(self, started: float, results: dict[str, Any]) -> None:
        now = self._clock()
        previous = self.state.snapshot
        calls = dict(previous.calls) if previous is not None else {}
        call_times = dict(previous.call_times) if previous is not None else {}
        calls.update(results)
        call_times.update(dict.fromkeys(results, now))
        assert self._attributes is not None
        readings = readings_from_calls(calls, status_source(self._attributes))
        self._check_units(readings)
        snapshot = Snapshot(
            self.state.gateway_id,
            now,
            calls,
            call_times,
            self._attributes,
            readings,
            count_absent(previous.absent_polls if previous is not None else {}, results),
        )
        if not self.state.online and self.state.consecutive_failures:
            log.info("gateway %s: recovered", self.state.gateway_id)
        self._set(
            replace(
                self.state,
                snapshot=snapshot,
                online=True,
                last_error=None,
                problem=None,
                hint=None,
                last_attempt=started,
                consecutive_failures=0,
                polls=self.state.polls + 1,
                **self._transport_fields(),
            )
        )

    def _check_units(self, readings: Readings) -> None:
        """Log once when the battery units stop adding up to the battery meter (a unit
        read in the wrong scale), and once when they agree again."""
        meter = readings.power_w.battery if readings.power_w is not None else None
        problem = units_disagree_with_meter(readings.batteries, meter)
        if (problem is None) != (self._units_problem is None):
            if problem is not None:
                log.warning("gateway %s: %s", self.state.gateway_id, problem)
            else:
                log.info("gateway %s: battery units agree with the meter", self.state.gateway_id)
        self._units_problem = problem

    def _on_failure(self, started: float, error: GatewayError) -> None:
        gid = self.state.gateway_id
        if isinstance(error, AuthFailed):
            if self.state.problem != error.code:  # once per outage, even after another kind
                log.error("gateway %s: %s (%s); %s", gid, error.code, error.message, error.hint)
        elif self.state.consecutive_failures == 0:
            log.warning("gateway %s: down (%s)", gid, error.message)
        self._set(
            replace(
                self.state,
                online=False,
                last_error=error.message,
                problem=error.code,
                hint=error.hint,
                last_attempt=started,
                consecutive_failures=self.state.consecutive_failures + 1,
                polls=self.state.polls + 1,
                failures=self.state.failures + 1,
                **self._transport_fields(),
            )
        )

    def _until_next_tick(self, started: float) -> float:
        """Healthy polls run on a shared clock grid (multiples of the interval, shifted by
        this gateway's phase), so gateways with the same interval publish together and a
        stream sends them in one message instead of making the later ones wait for its next
        slot. Each gateway is its own host, so polling them at the same moment burdens none
        of them."""
        interval, phase = self.state.interval, self._phase
        # A timer may wake us a hair before the tick we slept for; that poll is the tick's
        # poll, not the previous tick's (or it would be followed by a second one at once).
        tick = math.floor((started - phase + EARLY_WAKE_S) / interval)
        return (tick + 1) * interval + phase - started

    def _retry_delay(self, error: GatewayError) -> float:
        """Busy (429/503) and auth failures back off exponentially with ±20 % jitter (auth
        failures from AUTH_BACKOFF_S: a retry cannot succeed until the user fixes it). An
        unreachable gateway is retried every interval: the adapter stops a poll at the first
        network failure, so a retry costs one request (no more than a healthy poll), and
        recovery shows within one interval of the gateway coming back."""
        interval = self.state.interval
        exponent = max(0, self.state.consecutive_failures - 1)
        if isinstance(error, GatewayBusy):
            first, cap = interval, MAX_BUSY_BACKOFF_S
        elif isinstance(error, AuthFailed):
            first, cap = max(AUTH_BACKOFF_S, interval), MAX_AUTH_BACKOFF_S
        else:
            return interval * random.uniform(0.9, 1.1)
        base: float = min(first * 2.0**exponent, max(cap, first))
        return base * random.uniform(0.8, 1.2)

    def _set(self, state: GatewayState) -> None:
        self.state = state
        self._publish(state)


def count_absent(previous: Mapping[str, int], results: Mapping[str, Any]) -> dict[str, int]:
    """Successful polls in a row that made each call and got nothing (calls not made this
    poll keep their count)."""
    counts = dict(previous)
    for call, value in results.items():
        counts[call] = counts.get(call, 0) + 1 if value is None else 0
    return counts
