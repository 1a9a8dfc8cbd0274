"""Make an explicit `session.verify = False` win over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.

requests lets those variables replace a session-level `verify=False` (requests issue 3829),
because a per-request `verify=None` is first filled from the environment and then preferred
over the session's setting. pypowerwall's TEDAPI sessions rely on `session.verify = False` to
talk to the gateway's self-signed certificate, so with the variables set every TEDAPI call
fails certificate verification. Real gateways and our simulator both have self-signed
certificates, so the server installs this once, before it creates any gateway connection.

Only sessions that set `verify = False` themselves are affected; every other session
(Tesla cloud, FleetAPI) still verifies against the environment's bundle.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Any

import requests

_lock = threading.Lock()
_installed = False
_original = requests.Session.merge_environment_settings


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


def honor_session_verify() -> None:
    """Install the rule above process-wide. Idempotent and thread-safe."""
    global _installed
    with _lock:
        if not _installed:
            requests.Session.merge_environment_settings = _merge_environment_settings  # type: ignore[method-assign]
            _installed = True
