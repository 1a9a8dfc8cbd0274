"""Who may write: the control token, where it may come from, and the per-client lockout.

The token comes from `Authorization: Bearer <token>` or the legacy form field `token`,
never from the URL query (URLs end up in logs, browser history and proxies): a query token
is refused on its own terms even when a valid header is present. Tokens are compared in
constant time. After `max_failures` bad tokens one client address is locked out for
`lockout_seconds`; other addresses are unaffected. Memory is bounded by `max_clients`.
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
    bearer = _bearer(authorization)
    if bearer is not None:
        return Presented(bearer)
    token = form.get("token")
    return Presented(token if isinstance(token, str) and token else None)


def _bearer(authorization: str | None) -> str | None:
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
class _Client:
    failures: int
    first_failure: float
    locked_until: float | None = None


class TokenGuard:
    """Checks tokens against one secret and remembers bad ones per client address. Used from
    the event loop only (no lock): check() never blocks and never awaits."""

    def __init__(
        self,
        secret: str,
        *,
        max_failures: int = 10,
        lockout_seconds: float = 300.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not secret:
            raise ValueError("the control secret must not be empty")
        if max_failures < 1 or max_clients < 1 or lockout_seconds <= 0:
            raise ValueError("max_failures, max_clients and lockout_seconds must be positive")
        self._secret_digest = _digest(secret)
        self._max_failures = max_failures
        self._lockout = lockout_seconds
        self._max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def check(self, client: str, presented: Presented) -> AuthResult:
        now = self._clock()
        record = self._current(client, now)
        if record is not None and record.locked_until is not None:
            return LockedOut(max(1, math.ceil(record.locked_until - now)))
        if presented.token is not None and secrets.compare_digest(
            _digest(presented.token), self._secret_digest
        ):
            self._clients.pop(client, None)
            return Authorized()
        return self._failed(client, record, now)

    def tracked_clients(self) -> int:
        return len(self._clients)

    def _current(self, client: str, now: float) -> _Client | None:
        """The client's record, forgotten once its lockout or failure window has passed."""
        record = self._clients.get(client)
        if record is None:
            return None
        expiry = record.locked_until or record.first_failure + self._lockout
        if now >= expiry:
            del self._clients[client]
            return None
        return record

    def _failed(self, client: str, record: _Client | None, now: float) -> AuthResult:
        if record is None:
            record = _Client(failures=0, first_failure=now)
        record.failures += 1
        if record.failures >= self._max_failures:
            record.locked_until = now + self._lockout
        self._clients[client] = record
        self._clients.move_to_end(client)
        while len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)  # the least recently failed client
        return Unauthorized(max(0, self._max_failures - record.failures))


def _digest(token: str) -> bytes:
    """Fixed-length bytes: compare_digest then leaks not even the length, and non-ASCII
    tokens (which compare_digest refuses as str) compare like any other."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
