"""Optional token on reads (PW_READ_TOKEN): who may read, and which paths need no token.

A client proves it knows the token with `Authorization: Bearer <token>`, or with the cookie
the login page sets (http/login_page.py). The cookie holds a keyed digest of the token, not
the token itself. Wrong tokens and wrong cookies spend the same failure budgets as control
(control/auth.py's TokenGuard: per client and in total, 429 beyond them, the right token
always succeeds); a request without any credential is refused without counting. The
control secret, sent as Bearer, admits reads too.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable

from pypowerwall_server.control.auth import (
    Authorized,
    AuthResult,
    Presented,
    TokenGuard,
    bearer_token,
)

COOKIE_NAME = "pw_read"
ALWAYS_OPEN = frozenset({"/health", "/login", "/logout"})
_COOKIE_PREFIX = COOKIE_NAME.encode() + b"="

Headers = Iterable[tuple[bytes, bytes]]


class ReadAuth:
    def __init__(
        self,
        token: str,
        open_paths: Iterable[str] = (),
        control_secret: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.guard = TokenGuard(token, clock=clock)
        self.open_paths = ALWAYS_OPEN | frozenset(open_paths)
        cookie = hmac.new(_utf8(token), b"pypowerwall-server read cookie", "sha256")
        self.cookie_value = cookie.hexdigest()
        self._cookie_digest = _digest(self.cookie_value.encode())
        # Whoever may write may read: evcc sends one Authorization header, the control secret.
        self._control_digest = _digest(_utf8(control_secret)) if control_secret else None

    def is_open(self, path: str) -> bool:
        return path in self.open_paths

    def check(self, client: str, headers: Headers) -> AuthResult | None:
        """The verdict on one request's credentials; None when it presents none at all."""
        authorization: bytes | None = None
        cookie: bytes | None = None
        for name, value in headers:
            if name == b"authorization":
                authorization = value
            elif name == b"cookie" and cookie is None:
                cookie = _cookie(value)
        bearer = bearer_token(authorization.decode("latin-1")) if authorization else None
        if bearer is not None:
            if self._control_digest is not None and hmac.compare_digest(
                _digest(_utf8(bearer)), self._control_digest
            ):
                return Authorized()
            return self.guard.check(client, Presented(bearer))
        if cookie is None:
            return None
        if hmac.compare_digest(_digest(cookie), self._cookie_digest):
            return Authorized()
        return self.guard.check(client, Presented(None))  # a wrong cookie is a guess too

    def check_token(self, client: str, token: str) -> AuthResult:
        """The login form's token."""
        return self.guard.check(client, Presented(token or None))


def _cookie(header: bytes) -> bytes | None:
    for part in header.split(b";"):
        part = part.strip()
        if part.startswith(_COOKIE_PREFIX):
            return part[len(_COOKIE_PREFIX) :]
    return None


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()
