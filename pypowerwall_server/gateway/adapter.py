"""The only module that imports pypowerwall (docs/architecture.md, data flow).

One `PypowerwallAdapter` owns one library connection for one gateway. Its methods block
(network I/O); the poller runs them in a worker thread, one call at a time per gateway.
Library results are returned as plain values keyed by call name (gateway/readings.py types
them into Readings); library failures become our error classes. pypowerwall swallows most
errors (returning None and logging), so the adapter reads the outcome from the results and
from the library's log records.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from pypowerwall_server.errors import AuthFailed, GatewayError, GatewayTimeout
from pypowerwall_server.gateway import library_log, tedapi_economy
from pypowerwall_server.gateway.call_names import ParsedCall, invoke, parse_call
from pypowerwall_server.gateway.failures import error_class, gateway_failure, refusal, timed_out
from pypowerwall_server.gateway.library_log import HttpResponse, PollLog
from pypowerwall_server.gateway.secret_mask import mask_secrets
from pypowerwall_server.gateway.tls import honor_session_verify
from pypowerwall_server.internals.httpx_internals import skip_httpx_cli
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.untrusted import printable

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ERROR_TEXT = 500  # characters of the library's messages kept in an error


def config_secrets(config: GatewayConfig) -> tuple[str, ...]:
    """The gateway's passwords that are set: what no message may show."""
    return tuple(
        secret.get_secret_value()
        for secret in (config.gw_pwd, config.password)
        if secret is not None and secret.get_secret_value()
    )


def shown_messages(messages: Sequence[str], secrets: Sequence[str], limit: int) -> str:
    """The library's messages as we may log or answer them: once each, no secret,
    escaped and length-capped."""
    text = "; ".join(mask_secrets(message, secrets) for message in dict.fromkeys(messages))
    return printable(text, limit)


class PypowerwallAdapter:
    """A pypowerwall.Powerwall for one configured gateway, created on first connect."""

    def __init__(self, config: GatewayConfig, cache_expire: float) -> None:
        self._config = config
        self._cache_expire = cache_expire
        self._pw: Any = None
        self._scratch = tempfile.mkdtemp(prefix="pypowerwall-server-")  # mode 0700
        self._secrets = config_secrets(config)

    # --- public API -------------------------------------------------------------------
    def connect(self) -> GatewayAttributes:
        """Create (or re-create) the library connection. Raises GatewayError."""
        honor_session_verify()
        with library_log.collect() as poll_log:
            try:
                if self._pw is None:
                    self._pw = self._construct()
                elif self._pw.client is None:
                    self._pw.connect()
            except Exception as exc:  # the library raises bare Exceptions on bad setups
                raise self._failure(poll_log, "connection failed", str(exc)) from None
            if refusal(poll_log.responses) is not None:
                # The library keeps a client whose login was refused; its next request would
                # log in again at once. Drop it: the next connect() is the next attempt.
                self._pw.client = None
            if self._pw.client is None:
                raise self._failure(poll_log, "connection failed")
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
        with library_log.collect() as poll_log:
            collector = poll_log.messages
            tedapi_economy.before_poll(self._pw)
            for name in calls:
                seen = len(collector)
                try:
                    results[name] = invoke(self._pw, _parsed(name))
                except Exception as exc:  # library bugs must not kill the poller
                    log.debug("call %s raised %s", name, type(exc).__name__)
                    results[name] = None
                probe_failed = name == calls[0] and results[name] is None
                if probe_failed or (results[name] is None and gateway_failure(collector[seen:])):
                    # The first call (meter aggregates) is the poll's probe: without it the
                    # snapshot is useless, and after a gateway failure the remaining calls
                    # would each wait out their own timeout, holding this gateway's worker.
                    self._reset_library_backoff()
                    raise self._failure(poll_log, "no meter data from gateway")
        if calls and all(value is None for value in results.values()):
            self._reset_library_backoff()
            raise self._failure(poll_log, "no data from gateway")
        tedapi_economy.after_poll(self._pw)
        return results

    def run(self, operation: Callable[[Any], T]) -> T:
        """`operation(powerwall)` with the connected pypowerwall.Powerwall (control writes,
        on-demand reads; GatewaySupervisor.submit runs it on this gateway's worker). A
        library exception becomes our error class, its message scrubbed of secrets. The
        library answers a request that timed out with None and a log line: that is a
        GatewayTimeout here (a write may still apply), not a refusal."""
        if self._pw is None or self._pw.client is None:
            self.connect()
        with library_log.collect() as poll_log:
            try:
                result = operation(self._pw)
            except Exception as exc:
                raise self._failure(poll_log, "operation failed", str(exc)) from None
            if timed_out(poll_log.messages):
                raise GatewayTimeout(self._shown(poll_log.messages))
            return result

    def close(self) -> None:
        """Log out (a request that may hang on a dead gateway: app.py bounds the wait)."""
        shutil.rmtree(self._scratch, ignore_errors=True)  # first: the logout may never end
        client = getattr(self._pw, "client", None)
        close_session = getattr(client, "close_session", None)
        if callable(close_session):
            try:
                close_session()
            except Exception:  # closing a dead session may fail; nothing to recover
                log.debug("close_session failed", exc_info=True)
        self._pw = None

    # --- internals ----------------------------------------------------------------------
    def _construct(self) -> Any:
        pypowerwall = _library()
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

    def _failure(self, poll_log: PollLog, default: str, raised: str | None = None) -> GatewayError:
        messages = [*poll_log.messages, raised] if raised else poll_log.messages
        return self._classify(messages or [default], poll_log.responses)

    def _shown(self, messages: Sequence[str]) -> str:
        return shown_messages(messages, self._secrets, MAX_ERROR_TEXT)

    def _classify(
        self, messages: Sequence[str], responses: Sequence[HttpResponse] = ()
    ) -> GatewayError:
        text = self._shown(messages)
        kind = error_class(text, responses)
        if kind is AuthFailed:
            refused = refusal(responses)
            if refused is not None:
                refusal_text = f"HTTP {refused.status} on {refused.method} {refused.path}"
                text = f"password refused ({refusal_text}): {text}"
            return AuthFailed(text, self._auth_hint(refused))
        return kind(text)

    def _auth_hint(self, refused: HttpResponse | None) -> str:
        cfg = self._config
        if cfg.mode in ("cloud", "fleetapi"):
            return "the Tesla account refused the login: run --setup again"
        if (refused is not None and refused.path.startswith("/tedapi")) or not cfg.password:
            which = "gateway password (PW_GW_PWD, printed on the gateway's QR sticker)"
        else:
            which = "customer password (PW_PASSWORD)"
        return (
            f"the gateway refused the {which}: fix it and restart; until then the server "
            "tries only every few minutes, so the gateway does not lock the account"
        )

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
    return str(_library().__version__)


def _library() -> Any:
    """The pypowerwall package (the only import of the library in the project), without
    httpx's command-line tool (internals/httpx_internals.py)."""
    skip_httpx_cli()
    import pypowerwall

    return pypowerwall
