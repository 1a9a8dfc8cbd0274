"""The few error classes the server knows (docs/architecture.md, decision 5). The adapter and the
supervisor translate library failures into these; one exception handler maps them to HTTP
answers (answers.guarded for the hot path). A capability a gateway lacks is not an error:
the legacy routes answer it as the proxy did (200, empty)."""

from __future__ import annotations

from pypowerwall_server.untrusted import printable


class ServerError(Exception):
    """Base class: `message` is safe to show a user (never contains a secret)."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GatewayError(ServerError):
    """`code` names the kind of problem in /health and /api/gateways; `hint` says what the
    user can do about it (None: nothing to do but wait)."""

    status_code = 503
    code = "gateway_error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class GatewayUnreachable(GatewayError):
    """Network failure, timeout or a gateway answering 5xx/429: mark stale, back off."""

    code = "unreachable"


class GatewayTimeout(GatewayUnreachable, TimeoutError):
    """An operation submitted to a gateway did not finish in time; it may still apply (a
    write already sent cannot be called back). Also a TimeoutError, as callers expect."""


class GatewayBusy(GatewayUnreachable):
    """The gateway asked us to slow down (HTTP 429 or 503): back off exponentially."""

    code = "busy"


class AuthFailed(GatewayError):
    """The gateway refused our credentials (after one re-login): back off for minutes."""

    code = "auth_failed"


class UnknownGateway(ServerError):
    status_code = 404

    def __init__(self, gateway_id: str) -> None:
        super().__init__(f"unknown gateway id '{printable(gateway_id, 100)}'")


class NoData(ServerError):
    """No data yet, or the newest data is too old to serve: 503 + Retry-After."""

    status_code = 503

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
