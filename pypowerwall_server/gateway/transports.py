"""Ordered transports per gateway with failover and recovery.

A `TransportChain` stands where a single adapter stood (it is a GatewayAdapter): one adapter
per transport, in preference order, one of them active. The poller and the supervisor's
`submit` use the chain as they used the adapter; everything here runs on the gateway's
serial worker, one call at a time, so the chain's own state needs no lock. What it says
about itself (`status()`) is an immutable TransportStatus, replaced whole.

- The active transport failing `failover_after` polls in a row (an error, or degraded data:
  gateway/degraded.py) hands over to the next one at once, within the same poll; sooner
  when waiting for the next poll would leave clients with stale data (`keep_fresh`): a
  failing transport's poll is then cut off in time for the next one to serve before the
  newest data turns stale.
- A better-ranked transport that failed is probed again after `recovery_probe` seconds,
  doubling after each failed probe up to MAX_PROBE_S; a probe is one real poll on it, and
  when it answers well (no error, no degraded data) it takes back over with that poll.
- One log line per switch, with the reason.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from pypowerwall_server.errors import GatewayError
from pypowerwall_server.gateway.degraded import DegradedData
from pypowerwall_server.gateway.link_worker import LinkWorker
from pypowerwall_server.gateway_state import (
    LinkState,
    TransportState,
    TransportStatus,
)
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.settings.models import TEDAPI_HOST

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_PROBE_S = 1800.0  # a failed preferred transport is tried at least every 30 min
CALL_TIMEOUTS = 2  # a transport's poll may take this many call timeouts
MIN_ATTEMPT_SHARE = 0.1  # a poll that starts late still gets this share of the call deadline


class TransportAdapter(Protocol):
    """One transport's connection: a GatewayAdapter that also tells its attributes."""

    def connect(self) -> GatewayAttributes: ...
    def fetch(self, calls: Sequence[str]) -> dict[str, Any]: ...
    def run(self, operation: Callable[[Any], T]) -> T: ...
    def close(self) -> None: ...
    def attributes(self) -> GatewayAttributes: ...


@dataclass(slots=True)
class _Link:
    """One transport of the chain; mutated on the gateway's worker only."""

    name: str
    adapter: TransportAdapter
    interval: float  # poll interval while this transport is active
    worker: LinkWorker | None  # own thread when the gateway has several transports
    tried: bool = False
    failures: int = 0  # in a row
    failing_since: float | None = None
    last_error: str | None = None
    probe_delay: float = 0.0
    next_probe: float | None = None

    def view(self) -> TransportState:
        state: LinkState = "failing" if self.failures else "ok"
        if not self.tried:
            state = "untried"
        return TransportState(
            self.name,
            state,
            self.failing_since,
            self.failures,
            self.last_error,
            self.next_probe,
        )

    def call(self, fn: Callable[[], T], deadline: float | None) -> T:
        return fn() if self.worker is None else self.worker.call(fn, deadline)


class TransportChain:
    def __init__(
        self,
        gateway_id: str,
        links: Sequence[tuple[str, TransportAdapter, float]],
        failover_after: int,
        recovery_probe: float,
        clock: Callable[[], float] = time.time,
        call_deadline: float | None = None,
    ) -> None:
        """`call_deadline`: how long one call on a transport may take before it counts as
        failed (each transport then has its own thread); None runs calls inline."""
        if not links:
            raise ValueError("a transport chain needs at least one transport")
        self._gateway_id = gateway_id
        self._links = [
            _Link(name, adapter, interval, _worker(name, call_deadline))
            for name, adapter, interval in links
        ]
        self._call_deadline = call_deadline
        self._stale_after: float | None = None  # keep_fresh
        self._served_at: float | None = None  # when the newest data was served
        self._failover_after = failover_after
        self._recovery_probe = recovery_probe
        self._clock = clock
        self._active = 0
        self._failovers = 0
        self._recoveries = 0
        self._active_since: float | None = None
        self._degraded: str | None = None
        self._judge = DegradedData()
        self._status = self._view()

    def keep_fresh(self, stale_after_intervals: float) -> None:
        """Serve data from a fallback before the newest data is `stale_after_intervals`
        intervals old (freshness.py), even before `failover_after` failures in a row."""
        self._stale_after = stale_after_intervals

    # --- what the poller reads ------------------------------------------------------------
    def status(self) -> TransportStatus:
        return self._status

    @property
    def interval(self) -> float:
        """The active transport's poll interval (a remote fallback polls more slowly)."""
        return self._links[self._active].interval

    def attributes(self) -> GatewayAttributes:
        link = self._links[self._active]
        return replace(link.adapter.attributes(), transport=link.name)

    # --- GatewayAdapter -------------------------------------------------------------------
    def connect(self) -> GatewayAttributes:
        """Connect the active transport; a failure counts like a failed poll (and may hand
        over to the next transport, which is connected at once)."""
        while True:
            link = self._links[self._active]
            try:
                link.call(link.adapter.connect, self._call_deadline)
            except GatewayError as exc:
                if not self._failed(link, exc.message):
                    self._publish()
                    raise
                continue
            self._publish()
            return self.attributes()

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        try:
            probed = self._probe(calls)
            if probed is not None:
                return probed
            return self._fetch_active(calls)
        finally:
            self._publish()

    def run(self, operation: Callable[[Any], T]) -> T:
        """A write or on-demand read goes to the active transport (no failover: a write is
        never repeated on another path behind the caller's back)."""
        link = self._links[self._active]
        return link.call(lambda: link.adapter.run(operation), None)

    def run_on(self, name: str, operation: Callable[[Any], T]) -> T:
        """A write on the named transport, whichever one reads now (control's write
        transport, gateway/writer.py). Raises KeyError for a transport not in the chain."""
        for link in self._links:
            if link.name == name:
                return link.call(functools.partial(link.adapter.run, operation), None)
        raise KeyError(name)

    def close(self) -> None:
        for link in self._links:
            if link.worker is not None:
                link.worker.close()
            link.adapter.close()

    # --- internals ------------------------------------------------------------------------
    def _fetch_active(self, calls: Sequence[str]) -> dict[str, Any]:
        took_over = False
        while True:
            link = self._links[self._active]
            last = self._active + 1 == len(self._links)
            deadline = self._deadline(handing_over=not last, took_over=took_over)
            try:
                results = link.call(functools.partial(link.adapter.fetch, calls), deadline)
            except GatewayError as exc:
                took_over = self._failed(link, exc.message)
                if took_over:
                    continue  # the next transport takes over at once
                raise
            reason = self._judge.reason(link.name, results)
            if reason is not None and self._failed(link, reason):
                took_over = True
                continue
            if reason is None:
                self._answered(link)
            self._degraded = reason  # degraded data is served, flagged: better than nothing
            self._served_at = self._clock()
            return results

    def _probe(self, calls: Sequence[str]) -> dict[str, Any] | None:
        """Results of a due better-ranked transport that answered well (it is active
        now), or None."""
        now = self._clock()
        for index, link in enumerate(self._links[: self._active]):
            if link.next_probe is None or now < link.next_probe:
                continue
            try:  # within the time the active transport needs to serve before data is stale
                fetch = functools.partial(link.adapter.fetch, calls)
                results = link.call(fetch, self._deadline(handing_over=True))
            except GatewayError as exc:
                self._probe_failed(link, exc.message)
                continue
            reason = self._judge.reason(link.name, results)
            if reason is not None:
                self._probe_failed(link, reason)
                continue
            log.warning(
                "gateway %s: transport %s -> %s (recovered: %s answered a probe well)",
                self._gateway_id,
                self._links[self._active].name,
                link.name,
                link.name,
            )
            self._active, self._recoveries, self._degraded = index, self._recoveries + 1, None
            self._active_since = self._clock()
            self._answered(link)
            self._served_at = self._clock()
            return results
        return None

    def _answered(self, link: _Link) -> None:
        link.tried = True
        link.failures, link.failing_since, link.last_error = 0, None, None
        link.probe_delay, link.next_probe = 0.0, None

    def _reserve(self, deadline: float) -> float:
        """The time kept for the next transport to answer after a handover: one call
        timeout, at most half an interval (so that at the defaults a transport that failed
        once fast still gets a second poll before it hands over)."""
        return min(deadline / CALL_TIMEOUTS, self.interval / 2)

    def _handover_at(self) -> float | None:
        """The last moment the next transport can start and still serve before the newest
        data turns stale; None without data or without keep_fresh."""
        deadline = self._call_deadline
        if self._stale_after is None or self._served_at is None or deadline is None:
            return None
        fresh_until = self._served_at + self._stale_after * self.interval
        return fresh_until - self._reserve(deadline)

    def _deadline(self, handing_over: bool, took_over: bool = False) -> float | None:
        """How long a transport's poll may take: the call deadline, cut to the handover
        moment while another transport is waiting to serve; never below a tenth of it, nor
        below the reserve for a transport that has just taken over."""
        deadline = self._call_deadline
        handover = self._handover_at() if handing_over else None
        if deadline is None or handover is None:
            return deadline
        floor = self._reserve(deadline) if took_over else deadline * MIN_ATTEMPT_SHARE
        return min(deadline, max(floor, handover - self._clock()))

    def _failed(self, link: _Link, reason: str) -> bool:
        """Count a failure of the active transport; True when the next one took over: after
        `failover_after` failures, or once the next poll would come too late to hand over
        before the data turns stale."""
        link.tried = True
        link.failures += 1
        link.last_error = reason
        if link.failing_since is None:
            link.failing_since = self._clock()
        following = self._active + 1
        if following >= len(self._links):
            return False
        handover = self._handover_at()
        too_late = handover is not None and self._clock() + link.interval > handover
        if link.failures < self._failover_after and not too_late:
            return False
        log.warning(
            "gateway %s: transport %s -> %s (failover after %d failures%s: %s)",
            self._gateway_id,
            link.name,
            self._links[following].name,
            link.failures,
            "" if link.failures >= self._failover_after else ", before the data turns stale",
            reason,
        )
        link.probe_delay = self._recovery_probe
        link.next_probe = self._clock() + link.probe_delay
        self._active, self._failovers = following, self._failovers + 1
        self._active_since = self._clock()
        self._links[following].failures = 0  # a fresh start for the one taking over
        return True

    def _probe_failed(self, link: _Link, reason: str) -> None:
        log.debug("gateway %s: probe of %s failed: %s", self._gateway_id, link.name, reason)
        link.failures += 1
        link.last_error = reason
        link.probe_delay = min(MAX_PROBE_S, max(link.probe_delay, self._recovery_probe) * 2)
        link.next_probe = self._clock() + link.probe_delay

    def _publish(self) -> None:
        self._status = self._view()

    def _view(self) -> TransportStatus:
        return TransportStatus(
            active=self._links[self._active].name,
            transports=tuple(link.view() for link in self._links),
            failovers=self._failovers,
            recoveries=self._recoveries,
            degraded=self._degraded,
            active_since=self._active_since,
        )


def _worker(name: str, deadline: float | None) -> LinkWorker | None:
    return None if deadline is None else LinkWorker(name)


# --- building a chain from settings ---------------------------------------------------------
def transport_names(config: GatewayConfig) -> tuple[str, ...]:
    """The configured order, or the one transport a single-mode configuration gives."""
    return config.read_transports


def transport_config(config: GatewayConfig, name: str) -> GatewayConfig:
    """The settings one transport's connection uses: only its own credentials and address.
    A single-mode configuration is used as it is (unchanged behaviour)."""
    if not config.transports:
        return config
    cleared: dict[str, Any] = {
        "transports": (),
        "cloud_mode": False,
        "fleetapi": False,
        "rsa_key_path": None,
        "wifi_host": None,
    }
    if name == "tedapi":
        return config.model_copy(update={**cleared, "host": _tedapi_host(config), "password": None})
    if name == "v1r":
        keep = {"rsa_key_path": config.rsa_key_path, "wifi_host": config.wifi_host}
        return config.model_copy(update={**cleared, **keep})
    if name == "local":
        return config.model_copy(update=cleared)
    remote = {**cleared, "host": None, "gw_pwd": None, "password": None}
    if config.transports.index(name) > 0:  # a remote fallback: not faster than Tesla allows
        remote["poll_interval"] = max(config.poll_interval, config.remote_interval)
    switch = "fleetapi" if name == "fleetapi" else "cloud_mode"
    return config.model_copy(update={**remote, switch: True})


def _tedapi_host(config: GatewayConfig) -> str:
    """The Wi-Fi TEDAPI address: wifi_host, else host unless v1r/local use it."""
    if config.wifi_host:
        return config.wifi_host
    shares_host = any(name in ("v1r", "local") for name in config.transports)
    return TEDAPI_HOST if shares_host or not config.host else config.host


def build_chain(
    config: GatewayConfig,
    make_adapter: Callable[[GatewayConfig], TransportAdapter],
    clock: Callable[[], float] = time.time,
) -> TransportChain:
    links = []
    for name in transport_names(config):
        own = transport_config(config, name)
        links.append((name, make_adapter(own), own.poll_interval))
    deadline = call_deadline(config) if len(links) > 1 else None  # one: inline, as before
    return TransportChain(
        config.id, links, config.failover_after, config.recovery_probe, clock, deadline
    )


def call_deadline(config: GatewayConfig) -> float:
    """How long one transport's poll may take before it counts as failed. A healthy poll
    takes far less (its calls share one or two requests); a dead gateway holds the library
    for two or three timeouts (TEDAPI reads config and status in turn) and a refused one for
    a minute of retries, so a hung transport is cut off here and its next poll fails at
    once (LinkWorker). Once data has been served, TransportChain cuts a poll shorter still,
    so that the fallback serves before the data turns stale."""
    return CALL_TIMEOUTS * config.timeout


def chain_poll_timeout(config: GatewayConfig) -> float:
    """A poll of a multi-transport gateway may probe one transport, then try each in turn."""
    return call_deadline(config) * (len(config.transports) + 1)
