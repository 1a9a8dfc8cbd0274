"""Which of our error classes a failed poll is (docs/architecture.md, decision 5).

HTTP statuses decide first: a login or TEDAPI request answered 401/403 means the gateway
refused our password (pypowerwall 0.22.2 says so in words that vary by mode and version:
`Login failed: "name='AuthCookie'…"`, `Access Denied: Check your Gateway Password`, so words
alone let a wrong password be retried every interval, which can lock a gateway's account).
429/503 anywhere means the gateway asked us to slow down. Words are the fallback when no
response was seen (refused connections, timeouts, a urllib3 that logs responses differently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayError, GatewayUnreachable
from pypowerwall_server.gateway.library_log import HttpResponse

REFUSED = frozenset({401, 403})
SLOW_DOWN = frozenset({429, 503})


def _hints(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


# Whole words only, matched after addresses are removed: a port (127.0.0.1:42905), a URL or
# a firmware number (244401) must not read as a 429 or a 401.
_AUTH_HINTS = _hints(
    r"invalid powerwall login|check password|check your gateway password|401|unauthorized"
)
_BUSY_HINTS = _hints(r"429|503|rate limit(?:ed)?|service unavailable|cooldown")
_NETWORK_HINTS = _hints(r"timeout|timed out|unable to connect|connection|max retries")
_TIMEOUT_HINTS = _hints(r"timeout|timed out")
_ADDRESSES = re.compile(r"\w+://\S+|\S+:\d+|\b[\d.]+\.\d+\b")


def _says(hints: re.Pattern[str], message: str) -> bool:
    return hints.search(_ADDRESSES.sub(" ", message)) is not None


def gateway_failure(messages: Sequence[str]) -> bool:
    """The library's messages say the gateway itself failed (not just one missing value)."""
    return any(_says(_NETWORK_HINTS, m) or _says(_BUSY_HINTS, m) for m in messages)


def timed_out(messages: Sequence[str]) -> bool:
    """The library's messages say a request got no answer in time (it returns None then)."""
    return any(_says(_TIMEOUT_HINTS, m) for m in messages)


def _authenticates(response: HttpResponse) -> bool:
    """A request whose 401/403 is about our credentials: the local login, every TEDAPI
    request (basic auth with the gateway password), a cloud token request. A 403 on a
    local data endpoint only says the endpoint is disabled in this firmware."""
    path = response.path
    return path.endswith("/api/login/Basic") or path.startswith("/tedapi") or "/oauth2/" in path


def refusal(responses: Iterable[HttpResponse]) -> HttpResponse | None:
    """The first response that refused our credentials, if any."""
    return next((r for r in responses if r.status in REFUSED and _authenticates(r)), None)


def error_class(text: str, responses: Sequence[HttpResponse]) -> type[GatewayError]:
    """By the statuses when the gateway answered anything (the library's words can mislead:
    it calls a disabled endpoint's 403 "Unauthorized"), else by the words."""
    if refusal(responses) is not None:
        return AuthFailed
    if any(r.status == 401 for r in responses) and _says(_AUTH_HINTS, text):
        return AuthFailed  # e.g. a cloud API that refuses our token, or a session never granted
    if any(r.status in SLOW_DOWN for r in responses):
        return GatewayBusy
    if responses:
        return GatewayUnreachable
    if _says(_AUTH_HINTS, text):
        return AuthFailed
    if _says(_BUSY_HINTS, text):
        return GatewayBusy
    return GatewayUnreachable
