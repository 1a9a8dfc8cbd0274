"""Who may be served at all: the per-client rate limit (http/rate_limit.py) and the read
token (http/read_auth.py), checked by the hot ASGI app before anything else, for HTTP and
WebSocket alike. Built only when one of them is on; the hot protocol then answers in its
parser callback only the hot GETs neither could refuse (http/hot_asgi.py:protocol_routes).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote

from starlette.datastructures import Headers

from pypowerwall_server.control.auth import Authorized, LockedOut
from pypowerwall_server.http import login_page
from pypowerwall_server.http.asgi import Receive, Scope, Send
from pypowerwall_server.http.cross_origin import is_cross_origin
from pypowerwall_server.http.rate_limit import ClientRateLimit
from pypowerwall_server.http.read_auth import ReadAuth
from pypowerwall_server.http.request_rules import valid_prefix
from pypowerwall_server.settings import ServerConfig
from pypowerwall_server.streams.messages import CloseCode

NO_TOKEN = "a read token is required: send Authorization: Bearer <token>"
WRONG_TOKEN = "invalid read token"
RATE_LIMITED = "too many requests from this address"
_UNLIMITED = frozenset({"/health"})


class Admission:
    def __init__(
        self, rate_limit: ClientRateLimit | None, read_auth: ReadAuth | None, root_path: str
    ) -> None:
        self.rate_limit = rate_limit
        self.read_auth = read_auth
        self.root_path = root_path

    def protocol_may_answer(self, path: str) -> bool:
        """Whether the hot protocol may answer `path` without asking this admission."""
        if self.rate_limit is not None:
            return False
        return self.read_auth is None or self.read_auth.is_open(path)

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """True: serve the request. False: it has been answered (refused, or the login page)."""
        path = self._local_path(scope)
        client = _client(scope)
        if self.rate_limit is not None and path not in _UNLIMITED:
            wait = self.rate_limit.take(client)
            if wait is not None:
                await _refuse(scope, receive, send, 429, RATE_LIMITED, retry_after=wait)
                return False
        auth = self.read_auth
        if auth is None:
            return True
        if path in ("/login", "/logout") and scope["type"] == "http":
            await self._login(scope, receive, send, auth, path)
            return False
        if auth.is_open(path) or _is_write(scope):
            return True
        result = auth.check(client, scope["headers"])
        if isinstance(result, Authorized):
            return True
        if _wants_page(scope):  # also with a stale cookie: the login page replaces it
            target = scope["path"] + (
                "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
            )
            location = f"{self._prefix(scope)}/login?next={quote(target, safe='/')}"
            await _answer(send, 303, b"", [(b"location", location.encode("latin-1"))])
        elif isinstance(result, LockedOut):
            await _refuse(scope, receive, send, 429, result.message, result.retry_after)
        else:
            await _refuse(scope, receive, send, 401, WRONG_TOKEN if result else NO_TOKEN)
        return False

    async def _login(
        self, scope: Scope, receive: Receive, send: Send, auth: ReadAuth, path: str
    ) -> None:
        secure = scope.get("scheme") == "https"
        query = scope.get("query_string", b"").decode("latin-1")
        next_path = login_page.safe_next(_query_value(query, "next"))
        if scope["method"] != "POST":
            await _page(send, 200, login_page.page(next_path))
            return
        if path == "/logout":
            cookie = login_page.cookie_header("", secure, max_age=0)
            location = f"{self._prefix(scope)}/login".encode()
            await _answer(send, 303, b"", [(b"location", location), (b"set-cookie", cookie)])
            return
        if is_cross_origin(Headers(scope=scope)):  # before the token counts
            await _page(send, 403, login_page.page(next_path, "sign in from this server's page"))
            return
        body = await _read_body(receive, login_page.MAX_FORM_BYTES)
        if body is None:
            await _page(send, 413, login_page.page(next_path, "form too large"))
            return
        result = auth.check_token(_client(scope), login_page.form_token(body))
        if isinstance(result, Authorized):
            cookie = login_page.cookie_header(auth.cookie_value, secure)
            headers = [(b"location", next_path.encode("latin-1")), (b"set-cookie", cookie)]
            await _answer(send, 303, b"", headers)
        elif isinstance(result, LockedOut):
            await _page(send, 429, login_page.page(next_path, result.message), result.retry_after)
        else:
            await _page(send, 401, login_page.page(next_path, "wrong token"))

    def _local_path(self, scope: Scope) -> str:
        path: str = scope["path"]
        prefix = self.root_path
        if prefix and path.startswith(prefix + "/"):
            return path[len(prefix) :]
        return path

    def _prefix(self, scope: Scope) -> str:
        if self.root_path:
            return self.root_path
        for name, value in scope["headers"]:
            if name == b"x-forwarded-prefix":
                prefix = value.decode("latin-1").rstrip("/")
                return prefix if valid_prefix(prefix) else ""
        return ""


def admission_for(server: ServerConfig) -> Admission | None:
    """The admission these settings ask for; None when rate limit and read token are off."""
    if server.rate_limit is None and server.read_token is None:
        return None
    limit = ClientRateLimit(server.rate_limit) if server.rate_limit is not None else None
    read_auth = None
    if server.read_token is not None:
        secret = server.control_secret
        control = secret.get_secret_value() if secret is not None and server.control_on else None
        token = server.read_token.get_secret_value()
        read_auth = ReadAuth(token, server.read_open, control_secret=control)
    return Admission(limit, read_auth, server.root_path or "")


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _is_write(scope: Scope) -> bool:
    """POSTs are control writes, each asking for the control secret itself (form clients
    of the legacy proxy send it in the body, with no header for a read token)."""
    return bool(scope["type"] == "http" and scope["method"] == "POST")


def _wants_page(scope: Scope) -> bool:
    """A browser navigating (not a script): send it to the login page instead of a 401."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    return any(name == b"accept" and b"text/html" in value for name, value in scope["headers"])


def _query_value(query: str, name: str) -> str | None:
    values = parse_qs(query, max_num_fields=8).get(name)
    return values[0] if values else None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        body += bytes(message.get("body", b""))
        if len(body) > limit:
            return None
        if not message.get("more_body"):
            return body


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, retry_after: int = 0
) -> None:
    headers = [(b"retry-after", str(retry_after).encode())] if retry_after else []
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if status == 429 and retry_after and detail == RATE_LIMITED:
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        # The read token: accepted, then closed with a code a script can tell apart.
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CloseCode.UNAUTHORIZED, "reason": detail})
        return
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    body = json.dumps({"detail": detail}).encode()
    headers += [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await _answer(send, status, body, headers)


async def _page(send: Send, status: int, body: bytes, retry_after: int = 0) -> None:
    headers = list(login_page.PAGE_HEADERS)
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await _answer(send, status, body, headers)


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
