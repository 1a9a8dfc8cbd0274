"""Warnings about configuration that is valid but probably not what the user meant.

Unknown PW_* variables are warnings, not errors: the environment is shared with other tools,
and pypowerwall proxy users bring env files full of proxy-only settings. Purely cosmetic or
tuning proxy settings are ignored silently; ones that change behaviour get a warning, and so do
names close to one of ours (likely typos). Values are never shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from pypowerwall_server.settings.models import Settings
from pypowerwall_server.settings.table import CONFIG_ENV, SOURCE_ENV, TABLE

KNOWN_ENV = frozenset({*(env for row in TABLE for env in row.row.env), *SOURCE_ENV, CONFIG_ENV})
PROXY_IGNORED = frozenset(
    {
        "PW_BROWSER_CACHE", "PW_POOL_MAXSIZE", "PW_AUTH_MODE", "PW_CACHE_FILE",
        "PW_SUPPRESS_NETWORK_ERRORS", "PW_NETWORK_ERROR_RATE_LIMIT", "PW_FAIL_FAST",
        "PW_GRACEFUL_DEGRADATION", "PW_HEALTH_CHECK", "PW_CACHE_TTL", "PW_TEDAPI_RECOVERY",
        "PW_TEDAPI_PROBE_INTERVAL", "PW_API_LOCK_TIMEOUT",
    }
)  # fmt: skip


def environment_warnings(environ: Mapping[str, str]) -> list[str]:
    """One line per PW_* variable that is set but will not do what its name suggests."""
    warnings = []
    for name in sorted(environ):
        if not name.startswith("PW_") or not environ[name] or name in KNOWN_ENV:
            continue
        if name not in PROXY_IGNORED:
            warnings.append(f"{name} (environment): unknown variable, ignored{_hint(name)}")
    return warnings


def _hint(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(KNOWN_ENV), n=1, cutoff=0.8)
    return f"; did you mean {close[0]}?" if close else ""


def settings_warnings(settings: Settings) -> list[str]:
    """Resolved gateways whose settings pypowerwall will not use, or not use well."""
    warnings = []
    for gateway in settings.gateways:
        if gateway.mode == "local" and gateway.gw_pwd is not None and not gateway.uses_tedapi:
            warnings.append(
                f"gateway '{gateway.id}': gw_pwd is not used: with a password pypowerwall "
                "attaches TEDAPI only at host 192.168.91.1; remove the password to use TEDAPI mode"
            )
        if gateway.tedapi_auth_mode == "bearer" and gateway.tedapi_api_version == "V2024_06":
            warnings.append(
                f"gateway '{gateway.id}': tedapi_auth_mode bearer needs the signed queries of "
                "tedapi_api_version V2026_06; with V2024_06 the gateway may reject them"
            )
    return warnings
