"""Customer login sessions of a simulated gateway: /api/login/Basic, AuthCookie/UserRecord
cookies and Bearer tokens, as the real local API issues and checks them."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from pypowerwall_server.simulator.interface import SimRequest

SESSION_TTL_S = 24 * 3600.0  # by the gateway's real clock, not simulated time


class MalformedBody(ValueError):
    """The request body could not be parsed as the gateway expects."""


def parse_body(request: SimRequest) -> dict[str, object]:
    """JSON object or form fields (requests' `data=` sends a form, pypowerwall's login
    does exactly that). Raises MalformedBody for anything else."""
    content_type = request.headers.get("content-type", "")
    text = request.body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise MalformedBody(str(exc)) from exc
        if not isinstance(value, dict):
            raise MalformedBody("expected a JSON object")
        return value
    return {key: values[-1] for key, values in parse_qs(text).items()}


def request_token(headers: Mapping[str, str]) -> str | None:
    """The session token from `Authorization: Bearer` or the AuthCookie cookie."""
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "AuthCookie" and value:
            return value
    return None


class SessionStore:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def create(self) -> str:
        token = secrets.token_urlsafe(64) + "=="
        with self._lock:
            self._expiry[token] = self._clock() + SESSION_TTL_S
        return token

    def is_valid(self, token: str | None) -> bool:
        if token is None:
            return False
        with self._lock:
            expiry = self._expiry.get(token)
            if expiry is None:
                return False
            if self._clock() >= expiry:
                del self._expiry[token]
                return False
            return True

    def revoke(self, token: str | None) -> None:
        with self._lock:
            self._expiry.pop(token or "", None)

    def revoke_all(self) -> None:
        with self._lock:
            self._expiry.clear()


def user_record(email: str, token: str, login_time: str) -> dict[str, object]:
    return {
        "email": email,
        "firstname": "Tesla",
        "lastname": "Energy",
        "roles": ["Home_Owner"],
        "token": token,
        "provider": "Basic",
        "loginTime": login_time,
    }


def login_cookies(token: str, record: dict[str, object]) -> tuple[tuple[str, str], ...]:
    encoded = base64.b64encode(json.dumps(record).encode()).decode()
    return (
        ("Set-Cookie", f"AuthCookie={token}; Path=/; HttpOnly"),
        ("Set-Cookie", f"UserRecord={encoded}; Path=/"),
    )
