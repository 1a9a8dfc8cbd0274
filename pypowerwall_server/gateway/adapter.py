"""The only module that imports pypowerwall (DESIGN.md data flow).

One `PypowerwallAdapter` owns one library connection for one gateway. Its methods block
(network I/O); the poller runs them in a worker thread, one call at a time per gateway.
Library results are returned as plain values keyed by call name; library failures become
our error classes. pypowerwall swallows most errors (returning None and logging), so the
adapter reads the outcome from the results and from the library's log records.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayError, GatewayUnreachable
from pypowerwall_server.gateway import tedapi_economy
from pypowerwall_server.gateway.calls import ParsedCall, invoke, parse_call
from pypowerwall_server.gateway.tls import honor_session_verify
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig

log = logging.getLogger(__name__)
LIBRARY_LOGGER = "pypowerwall"


def _hints(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


# Whole words only, matched after addresses are removed: a port (127.0.0.1:42905), a URL or
# a firmware number (244401) must not read as a 429 or a 401.
_AUTH_HINTS = _hints(r"invalid powerwall login|check password|401|unauthorized")
_BUSY_HINTS = _hints(r"429|503|rate limit(?:ed)?|service unavailable|cooldown")
_NETWORK_HINTS = _hints(r"timeout|timed out|unable to connect|connection|max retries")
_ADDRESSES = re.compile(r"\w+://\S+|\S+:\d+|\b[\d.]+\.\d+\b")


def _says(hints: re.Pattern[str], message: str) -> bool:
    return hints.search(_ADDRESSES.sub(" ", message)) is not None


def _gateway_failure(messages: Sequence[str]) -> bool:
    """The library's messages say the gateway itself failed (not just one missing value)."""
    return any(_says(_NETWORK_HINTS, m) or _says(_BUSY_HINTS, m) for m in messages)


class _LibraryMessages(logging.Handler):
    """One handler on the library's logger for the whole process. Records go to the sink of
    the thread that logged them: each gateway's calls run on one worker thread at a time, so
    a sink holds exactly the messages of one poll. (Adding and removing a handler per poll
    serialized 64 worker threads on logging's module lock.)"""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        sink: list[str] | None = getattr(self._local, "sink", None)
        if sink is not None:
            sink.append(record.getMessage())

    @contextmanager
    def collect(self) -> Iterator[list[str]]:
        previous = getattr(self._local, "sink", None)
        sink: list[str] = []
        self._local.sink = sink
        try:
            yield sink
        finally:
            self._local.sink = previous


_install_lock = threading.Lock()
_messages: _LibraryMessages | None = None


def _collect_library_messages() -> contextlib.AbstractContextManager[list[str]]:
    global _messages
    with _install_lock:
        if _messages is None:
            _messages = _LibraryMessages()
            logging.getLogger(LIBRARY_LOGGER).addHandler(_messages)
    return _messages.collect()


class PypowerwallAdapter:
    """A pypowerwall.Powerwall for one configured gateway, created on first connect."""

    def __init__(self, config: GatewayConfig, cache_expire: float) -> None:
        self._config = config
        self._cache_expire = cache_expire
        self._pw: Any = None
        self._scratch = tempfile.mkdtemp(prefix="pypowerwall-server-")  # mode 0700
        self._secrets = tuple(
            secret.get_secret_value()
            for secret in (config.gw_pwd, config.password)
            if secret is not None and secret.get_secret_value()
        )

    # --- public API -------------------------------------------------------------------
    def connect(self) -> GatewayAttributes:
        """Create (or re-create) the library connection. Raises GatewayError."""
        honor_session_verify()
        with _collect_library_messages() as collector:
            try:
                if self._pw is None:
                    self._pw = self._construct()
                elif self._pw.client is None:
                    self._pw.connect()
            except Exception as exc:  # the library raises bare Exceptions on bad setups
                raise self._classify([*collector, str(exc)]) from None
            if self._pw.client is None:
                raise self._classify(collector or ["connection failed"])
        return self.attributes()

    def attributes(self) -> GatewayAttributes:
        pw = self._pw
        tedapi = getattr(pw, "tedapi", None) if pw is not None else None
        return GatewayAttributes(
            mode=self._config.mode,
            tedapi=bool(tedapi),
            pw3=bool(getattr(tedapi, "pw3", False)) if tedapi else False,
            cloudmode=bool(getattr(pw, "cloudmode", False)),
            fleetapi=bool(getattr(pw, "fleetapi", False)),
            tedapi_mode=str(getattr(pw, "tedapi_mode", "off")),
            tedapi_api_version=_api_version(pw),
            library_version=library_version(),
        )

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        """Make each call once; a call that raises gives None. Raises GatewayUnreachable
        (GatewayBusy, AuthFailed) when the first call (the probe) or the gateway failed, so
        the poller can mark the outage."""
        if self._pw is None or self._pw.client is None:
            self.connect()
        results: dict[str, Any] = {}
        with _collect_library_messages() as collector:
            tedapi_economy.before_poll(self._pw)
            for name in calls:
                seen = len(collector)
                try:
                    results[name] = invoke(self._pw, _parsed(name))
                except Exception as exc:  # library bugs must not kill the poller
                    log.debug("call %s raised %s", name, type(exc).__name__)
                    results[name] = None
                probe_failed = name == calls[0] and results[name] is None
                if probe_failed or (results[name] is None and _gateway_failure(collector[seen:])):
                    # The first call (meter aggregates) is the poll's probe: without it the
                    # snapshot is useless, and after a gateway failure the remaining calls
                    # would each wait out their own timeout, holding this gateway's worker.
                    self._reset_library_backoff()
                    raise self._classify(collector or ["no meter data from gateway"])
        if calls and all(value is None for value in results.values()):
            self._reset_library_backoff()
            raise self._classify(collector or ["no data from gateway"])
        tedapi_economy.after_poll(self._pw)
        return results

    def invoke(self, call: str) -> Any:
        """One call by name (control writes, on-demand reads)."""
        if self._pw is None or self._pw.client is None:
            self.connect()
        return invoke(self._pw, parse_call(call))

    def close(self) -> None:
        client = getattr(self._pw, "client", None)
        close_session = getattr(client, "close_session", None)
        if callable(close_session):
            try:
                close_session()
            except Exception:  # closing a dead session may fail; nothing to recover
                log.debug("close_session failed", exc_info=True)
        self._pw = None
        shutil.rmtree(self._scratch, ignore_errors=True)

    # --- internals ----------------------------------------------------------------------
    def _construct(self) -> Any:
        import pypowerwall  # the only import of the library in the project

        cfg = self._config
        return pypowerwall.Powerwall(
            host=cfg.host or "",
            password=_secret(cfg.password),
            email=cfg.email or "nobody@nowhere.com",
            timezone=cfg.timezone,
            pwcacheexpire=self._cache_expire,
            timeout=cfg.timeout,
            poolmaxsize=4,
            cloudmode=cfg.mode == "cloud" or cfg.mode == "fleetapi",
            siteid=cfg.siteid,
            authpath=cfg.authpath or "",
            cachefile=_auth_cache_file(cfg.id, cfg.authpath, self._scratch),
            fleetapi=cfg.mode == "fleetapi",
            auto_select=False,
            retry_modes=False,
            gw_pwd=_secret(cfg.gw_pwd) or None,
            tedapi_api_version=cfg.tedapi_api_version,
            tedapi_auth_mode=cfg.tedapi_auth_mode,
            rsa_key_path=cfg.rsa_key_path,
            wifi_host=cfg.wifi_host,
            failover=False,
        )

    def _classify(self, messages: Sequence[str]) -> GatewayError:
        text = self._scrub("; ".join(dict.fromkeys(messages)))[:500]
        if _says(_AUTH_HINTS, text):
            return AuthFailed(text)
        if _says(_BUSY_HINTS, text):
            return GatewayBusy(text)
        return GatewayUnreachable(text)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _reset_library_backoff(self) -> None:
        """The library pauses a gateway for 5 minutes after a 429/503 and caches failures.
        Our poller owns backoff (with jitter, bounded), so drop the library's own state
        to let recovery show within one interval once the gateway answers again."""
        client = getattr(self._pw, "client", None)
        for holder in (self._pw, client, getattr(client, "tedapi", None)):
            if holder is None:
                continue
            if hasattr(holder, "pwcooldown"):
                holder.pwcooldown = 0
            cache = getattr(holder, "pwcache", None)
            if isinstance(cache, dict):
                cache.clear()


def _parsed(name: str) -> ParsedCall:
    call = parse_call(name)
    if name in tedapi_economy.FORCED_CALLS:
        return replace(call, kwargs=(*call.kwargs, ("force", True)))
    return call


def _secret(value: Any) -> str:
    return str(value.get_secret_value()) if value is not None else ""


def _api_version(pw: Any) -> str | None:
    version = getattr(pw, "tedapi_api_version", None)
    if version is None:
        return None
    return str(getattr(version, "value", version))


def _auth_cache_file(gateway_id: str, authpath: str | None, scratch: str) -> str:
    """pypowerwall stores the login cookie in a file; keep it out of the working directory
    and private to this process (a shared file let two servers swap sessions)."""
    return os.path.join(authpath or scratch, f".powerwall-{gateway_id}")


def library_version() -> str:
    import pypowerwall

    return str(pypowerwall.__version__)


def configure_library_logging(debug: bool) -> None:
    """pypowerwall logs every failed request at ERROR; the poller logs an outage once when
    it starts and once when it ends. So the library's records stop at its own logger (where
    the adapter's collector reads them) unless --debug."""
    library_logger = logging.getLogger(LIBRARY_LOGGER)
    library_logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    library_logger.propagate = debug
