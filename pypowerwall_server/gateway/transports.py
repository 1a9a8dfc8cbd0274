"""Ordered transports per gateway with failover and recovery (issue 13).

A `TransportChain` stands where a single adapter stood (it is a GatewayAdapter): one adapter
per transport, in preference order, one of them active. The poller and the supervisor's
`submit` use the chain as they used the adapter; everything here runs on the gateway's
serial worker, one call at a time, so the chain's own state needs no lock. What it says
about itself (`status()`) is an immutable TransportStatus, replaced whole.

- The active transport failing `failover_after` polls in a row (an error, or degraded data:
  gateway/degraded.py) hands over to the next one at once, within the same poll.
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
from pypowerwall_server.gateway.transport_status import (
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

    def call(self, fn: Callable[[], T], bounded: bool = True) -> T:
        return fn() if self.worker is None else self.worker.call(fn, bounded)


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
        self._failover_after = failover_after
        self._recovery_probe = recovery_probe
        self._clock = clock
        self._active = 0
        self._failovers = 0
        self._recoveries = 0
        self._degraded: str | None = None
        self._judge = DegradedData()
        self._status = self._view()

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
                link.call(link.adapter.connect)
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
        return link.call(lambda: link.adapter.run(operation), bounded=False)

    def run_on(self, name: str, operation: Callable[[Any], T]) -> T:
        """A write on the named transport, whichever one reads now (control's write
        transport, gateway/writer.py). Raises KeyError for a transport not in the chain."""
        for link in self._links:
            if link.name == name:
                return link.call(functools.partial(link.adapter.run, operation), bounded=False)
        raise KeyError(name)

    def close(self) -> None:
        for link in self._links:
            if link.worker is not None:
                link.worker.close()
            link.adapter.close()

    # --- internals ------------------------------------------------------------------------
    def _fetch_active(self, calls: Sequence[str]) -> dict[str, Any]:
        while True:
            link = self._links[self._active]
            try:
                results = link.call(functools.partial(link.adapter.fetch, calls))
            except GatewayError as exc:
                if self._failed(link, exc.message):
                    continue  # the next transport takes over at once
                raise
            reason = self._judge.reason(link.name, results)
            if reason is None:
                self._answered(link)
                self._degraded = None
                return results
            if self._failed(link, reason):
                continue
            self._degraded = reason  # served, flagged: better than nothing
            return results

    def _probe(self, calls: Sequence[str]) -> dict[str, Any] | None:
        """Results of a due better-ranked transport that answered well (it is active
        now), or None."""
        now = self._clock()
        for index, link in enumerate(self._links[: self._active]):
            if link.next_probe is None or now < link.next_probe:
                continue
            try:
                results = link.call(functools.partial(link.adapter.fetch, calls))
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
            self._answered(link)
            return results
        return None

    def _answered(self, link: _Link) -> None:
        link.tried = True
        link.failures, link.failing_since, link.last_error = 0, None, None
        link.probe_delay, link.next_probe = 0.0, None

    def _failed(self, link: _Link, reason: str) -> bool:
        """Count a failure of the active transport; True when the next one took over."""
        link.tried = True
        link.failures += 1
        link.last_error = reason
        if link.failing_since is None:
            link.failing_since = self._clock()
        following = self._active + 1
        if link.failures < self._failover_after or following >= len(self._links):
            return False
        log.warning(
            "gateway %s: transport %s -> %s (failover after %d failures: %s)",
            self._gateway_id,
            link.name,
            self._links[following].name,
            link.failures,
            reason,
        )
        link.probe_delay = self._recovery_probe
        link.next_probe = self._clock() + link.probe_delay
        self._active, self._failovers = following, self._failovers + 1
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
        )


def _worker(name: str, deadline: float | None) -> LinkWorker | None:
    return None if deadline is None else LinkWorker(name, deadline)


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
    once (LinkWorker): the fallback serves before the data turns stale."""
    return CALL_TIMEOUTS * config.timeout


def chain_poll_timeout(config: GatewayConfig) -> float:
    """A poll of a multi-transport gateway may probe one transport, then try each in turn."""
    return call_deadline(config) * (len(config.transports) + 1)
