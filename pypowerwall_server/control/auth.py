"""Who may write: the control token, where it may come from, and the failure budgets.

The token comes from `Authorization: Bearer <token>` or the legacy form field `token`,
never from the URL query (URLs end up in logs, browser history and proxies): a query token
is refused on its own terms even when a valid header is present. Tokens are compared in
constant time.

The right token always succeeds: failures made by someone else (a neighbour behind the same
proxy or NAT, a page the owner opened) can never lock the owner out. Wrong tokens are
counted per client address and over all clients; once either budget is spent within the
window, wrong tokens are answered 429 with Retry-After instead of 401. Guessing is bounded
by the secret itself (at least 16 characters, checked at start) and by the optional
per-client rate limit; cross-origin browser requests never reach the check (http/cross_origin.py).
Memory is bounded by `max_clients`.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

QUERY_TOKEN_NAMES = frozenset({"token", "access_token"})
TOKEN_INVALID = "Control Command Token Invalid"  # the legacy proxy's text (401)


@dataclass(frozen=True, slots=True)
class Presented:
    """A token as the client sent it (None: no token at all)."""

    token: str | None


@dataclass(frozen=True, slots=True)
class TokenInQuery:
    """Refused: a token in the URL query string (never accepted, even if correct)."""

    message: str = "control tokens are not accepted in the URL; send Authorization: Bearer"


def presented_token(
    authorization: str | None, form: Mapping[str, object], query: Mapping[str, object]
) -> Presented | TokenInQuery:
    """The token of one request: a Bearer header wins over the legacy form field."""
    if QUERY_TOKEN_NAMES & {name.lower() for name in query}:
        return TokenInQuery()
    bearer = bearer_token(authorization)
    if bearer is not None:
        return Presented(bearer)
    token = form.get("token")
    return Presented(token if isinstance(token, str) and token else None)


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True, slots=True)
class Authorized:
    pass


@dataclass(frozen=True, slots=True)
class Unauthorized:
    """A 401; `failures_left` bad tokens more lock this client out."""

    failures_left: int


@dataclass(frozen=True, slots=True)
class LockedOut:
    """A 429 with Retry-After: too many bad tokens from this client address."""

    retry_after: int  # whole seconds, at least 1

    @property
    def message(self) -> str:
        return f"too many invalid control tokens; retry after {self.retry_after} seconds"


AuthResult = Authorized | Unauthorized | LockedOut


@dataclass(slots=True)
class _Failures:
    count: int
    window_end: float


class TokenGuard:
    """Checks tokens against one secret and counts wrong ones per client address and in
    total. Used from the event loop only (no lock): check() never blocks and never awaits."""

    def __init__(
        self,
        secret: str,
        *,
        max_failures: int = 10,
        max_total_failures: int = 100,
        lockout_seconds: float = 300.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not secret:
            raise ValueError("the control secret must not be empty")
        if min(max_failures, max_total_failures, max_clients) < 1 or lockout_seconds <= 0:
            raise ValueError("budgets, max_clients and lockout_seconds must be positive")
        self._secret_digest = _digest(secret)
        self._max_failures = max_failures
        self._max_total = max_total_failures
        self._window = lockout_seconds
        self._max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, _Failures] = OrderedDict()
        self._total = _Failures(0, 0.0)

    def check(self, client: str, presented: Presented) -> AuthResult:
        if presented.token is not None and secrets.compare_digest(
            _digest(presented.token), self._secret_digest
        ):
            return Authorized()  # never blocked by failures this token did not make
        now = self._clock()
        total = self._counted(self._total, now)
        self._total = total
        record = self._counted(self._clients.pop(client, None), now)
        self._clients[client] = record  # the most recent failure last
        while len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)
        if record.count > self._max_failures:
            return LockedOut(_seconds_left(record, now))
        if total.count > self._max_total:
            return LockedOut(_seconds_left(total, now))
        return Unauthorized(self._max_failures - record.count)

    def tracked_clients(self) -> int:
        return len(self._clients)

    def _counted(self, failures: _Failures | None, now: float) -> _Failures:
        """`failures` with one more, in a fresh window once the last one has passed."""
        if failures is None or now >= failures.window_end:
            return _Failures(1, now + self._window)
        failures.count += 1
        return failures


def _seconds_left(failures: _Failures, now: float) -> int:
    return max(1, math.ceil(failures.window_end - now))


def _digest(token: str) -> bytes:
    """Fixed-length bytes: compare_digest then leaks not even the length, and non-ASCII
    tokens (which compare_digest refuses as str) compare like any other."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
