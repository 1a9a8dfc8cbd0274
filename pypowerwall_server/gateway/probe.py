"""`--check-config --probe`: try each configured transport of each gateway once.

Every transport of every gateway is tried at the same time (in batches of MAX_THREADS), each
with its own library connection: connect, then one poll of the meters, the system status and
the site info. A transport gets PROBE_DEADLINE_S; one that is still busy then is cut off and
classified by what the library had said so far (a refused TEDAPI port is retried for a
minute). The outcome is one word a user can act on: ok, refused, timeout, auth failed, TLS,
busy, degraded, unreachable. Details are scrubbed of the gateway's secrets.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayError
from pypowerwall_server.gateway.adapter import PypowerwallAdapter, config_secrets, shown_messages
from pypowerwall_server.gateway.daemon_threads import DaemonThreadPool
from pypowerwall_server.gateway.degraded import DegradedData
from pypowerwall_server.gateway.library_log import HTTP_LOGGER, LIBRARY_LOGGER
from pypowerwall_server.gateway.readings import AGGREGATES_CALL, SITE_INFO_CALL, SYSTEM_STATUS_CALL
from pypowerwall_server.gateway.transports import (
    TransportAdapter,
    transport_config,
    transport_names,
)
from pypowerwall_server.settings import GatewayConfig

PROBE_DEADLINE_S = 10.0
MAX_THREADS = 32
PROBE_CALLS = (AGGREGATES_CALL, SYSTEM_STATUS_CALL, SITE_INFO_CALL)
MAX_DETAIL = 160  # characters of the library's words shown per failed transport
AdapterMaker = Callable[[GatewayConfig], TransportAdapter]

_REFUSED = re.compile(r"connection refused|errno 111|\brefused the connection", re.IGNORECASE)
_TLS = re.compile(r"\bssl|certificate|\btls\b|handshake|wrong_version_number", re.IGNORECASE)
_TIMEOUT = re.compile(r"timed out|timeout", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    gateway_id: str
    transport: str
    outcome: str  # ok, refused, timeout, auth failed, TLS, busy, degraded, unreachable
    detail: str | None  # the library's words or the degraded-data reason, scrubbed
    seconds: float

    @property
    def works(self) -> bool:
        return self.outcome == "ok"


def outcome_of(error: GatewayError | None, said: str) -> str:
    """One word for a failed probe: by our error class first (a refused password is "auth
    failed" whatever else was said), then by what the library said."""
    if isinstance(error, AuthFailed):
        return "auth failed"
    for pattern, outcome in ((_REFUSED, "refused"), (_TLS, "TLS"), (_TIMEOUT, "timeout")):
        if pattern.search(said):
            return outcome
    if isinstance(error, GatewayBusy):
        return "busy"
    return "timeout" if error is None else "unreachable"


def probe_gateways(
    gateways: Sequence[GatewayConfig],
    make_adapter: AdapterMaker | None = None,
    deadline: float = PROBE_DEADLINE_S,
) -> list[ProbeResult]:
    """One result per gateway x transport, in configuration order."""
    jobs = [_Job(g, name) for g in gateways for name in transport_names(g)]
    make = make_adapter or _library_adapter
    with _heard() as heard:
        for start in range(0, len(jobs), MAX_THREADS):
            _run_batch(jobs[start : start + MAX_THREADS], make, deadline)
    return [job.result(heard, deadline) for job in jobs]


def working_gateways(results: Sequence[ProbeResult]) -> dict[str, bool]:
    """Per gateway (in order): whether at least one of its transports works."""
    found: dict[str, bool] = {}
    for result in results:
        found[result.gateway_id] = found.get(result.gateway_id, False) or result.works
    return found


def report_lines(results: Sequence[ProbeResult]) -> list[str]:
    width = max((len(r.gateway_id) for r in results), default=0)
    lines = []
    for r in results:
        text = f"  {r.gateway_id:<{width}}  {r.transport:<8}  {r.outcome} ({r.seconds:.1f} s)"
        lines.append(text + (f": {r.detail}" if r.detail else ""))
    return lines


# --- internals ------------------------------------------------------------------------------
@dataclass(slots=True)
class _Job:
    """One transport of one gateway; its fields are written by its own thread."""

    config: GatewayConfig
    transport: str
    thread: int | None = None
    answer: tuple[str, str | None, float] | None = None  # outcome, detail, seconds

    def run(self, make: AdapterMaker) -> None:
        self.thread, started = threading.get_ident(), time.monotonic()
        adapter = make(transport_config(self.config, self.transport))
        try:
            outcome, detail = _try(adapter)
            self.answer = (outcome, detail, time.monotonic() - started)
        finally:
            adapter.close()  # a logout; the answer is in already

    def result(self, heard: _ThreadMessages, deadline: float) -> ProbeResult:
        if self.answer is not None:
            outcome, detail, took = self.answer
        else:  # cut off at the deadline: judged by what the library said so far
            said = "; ".join(dict.fromkeys(heard.said(self.thread)))
            outcome, took = outcome_of(None, said), deadline
            detail = said or f"no answer within {deadline:g} s"
        secrets = config_secrets(self.config)
        shown = shown_messages([detail], secrets, MAX_DETAIL) if detail else None
        return ProbeResult(self.config.id, self.transport, outcome, shown, took)


def _try(adapter: TransportAdapter) -> tuple[str, str | None]:
    try:
        adapter.connect()
        results = adapter.fetch(PROBE_CALLS)
    except GatewayError as exc:
        return outcome_of(exc, exc.message), exc.message
    except Exception as exc:  # a library bug: say so in one line, never a traceback
        return "unreachable", f"internal error: {type(exc).__name__}"
    reason = DegradedData().reason("probe", results)
    return ("ok", None) if reason is None else ("degraded", reason)


def _run_batch(jobs: Sequence[_Job], make: AdapterMaker, deadline: float) -> None:
    pool = DaemonThreadPool(len(jobs), "probe")
    futures: list[Future[None]] = [pool.submit(job.run, make) for job in jobs]
    wait(futures, timeout=deadline)  # every job starts at once: one deadline for all
    pool.shutdown(wait=False, cancel_futures=True)  # a hung call keeps its daemon thread


def _library_adapter(config: GatewayConfig) -> TransportAdapter:
    return PypowerwallAdapter(config, cache_expire=0.0)


class _ThreadMessages(logging.Handler):
    """The library's and urllib3's warnings per thread, readable from another thread: a
    probe cut off at its deadline is classified by what was said so far."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._by_thread: dict[int, list[str]] = {}
        self._lock_messages = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_messages:
            self._by_thread.setdefault(record.thread or 0, []).append(record.getMessage())

    def said(self, thread: int | None) -> list[str]:
        with self._lock_messages:
            return list(self._by_thread.get(thread or -1, ()))


@contextlib.contextmanager
def _heard() -> Iterator[_ThreadMessages]:
    handler = _ThreadMessages()
    loggers = [logging.getLogger(name) for name in (LIBRARY_LOGGER, HTTP_LOGGER)]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
