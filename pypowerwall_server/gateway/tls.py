"""Make an explicit `session.verify = False` win over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.

requests lets those variables replace a session-level `verify=False` (a known behaviour of requests:
psf/requests#3829), because a per-request `verify=None` is first filled from the environment and
then preferred over the session's setting. pypowerwall's TEDAPI sessions rely on `session.verify =
False` to talk to the gateway's self-signed certificate, so with the variables set every TEDAPI call
fails certificate verification. Real gateways and our simulator both have self-signed certificates,
so the server installs this once, before it creates any gateway connection.

Only sessions that set `verify = False` themselves are affected; every other session
(Tesla cloud, FleetAPI) still verifies against the environment's bundle.

Second rule, for the same unverified connections: they share one SSL context that never
loads CA certificates. Without it urllib3 builds a context per connection and loads the
system's CA store into it although nothing is verified: 46 ms of CPU and about 1 MiB per
connection here, two connections per gateway (requests documents passing `ssl_context`
through the pool key attributes for this).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import MutableMapping
from typing import Any

import requests
import requests.adapters

_lock = threading.Lock()
_installed = False
_original = requests.Session.merge_environment_settings
_original_pool_key = requests.adapters.HTTPAdapter.build_connection_pool_key_attributes


def _merge_environment_settings(
    self: requests.Session,
    url: str | bytes | None,
    proxies: MutableMapping[str, str] | None,
    stream: bool | None,
    verify: bool | str | None,
    cert: Any,
) -> Any:
    settings = _original(self, url, proxies, stream, verify, cert)
    if self.verify is False and verify is None:
        settings["verify"] = False
    return settings


def unverified_context() -> ssl.SSLContext:
    """An SSL context for servers we do not verify (self-signed gateways): no CA store."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # before verify_mode: CERT_NONE needs it off
    context.verify_mode = ssl.CERT_NONE
    return context


_UNVERIFIED = unverified_context()


def unverified_shared() -> ssl.SSLContext:
    """The one context every unverified connection uses."""
    return _UNVERIFIED


def _pool_key_attributes(
    self: requests.adapters.HTTPAdapter, request: Any, verify: Any, cert: Any = None
) -> tuple[Any, Any]:
    host_params, pool_kwargs = _original_pool_key(self, request, verify, cert)
    if verify is False and "ssl_context" not in pool_kwargs:
        pool_kwargs["ssl_context"] = _UNVERIFIED
    return host_params, pool_kwargs


def honor_session_verify() -> None:
    """Install the rules above process-wide. Idempotent and thread-safe."""
    global _installed
    with _lock:
        if not _installed:
            requests.Session.merge_environment_settings = _merge_environment_settings  # type: ignore[method-assign]
            adapter = requests.adapters.HTTPAdapter
            adapter.build_connection_pool_key_attributes = _pool_key_attributes  # type: ignore[method-assign]
            _installed = True
