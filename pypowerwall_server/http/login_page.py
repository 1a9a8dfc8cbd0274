"""The login page of the read token (http/read_auth.py): a form that sets the cookie.

GET /login shows the form; POST /login with the right token sets an HttpOnly, SameSite=Strict
cookie (Secure over HTTPS) and sends the browser back where it came from (`next`, a path on
this server only). POST /logout clears the cookie. Wrong tokens spend the read token's
failure budgets; a form posted by a page of another site is refused before it counts.
"""

from __future__ import annotations

import base64
import hashlib
import html
from urllib.parse import parse_qs, quote

_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#111;color:#eee;display:flex;"
    "justify-content:center;margin-top:15vh}form{display:flex;flex-direction:column;gap:.75em;"
    "min-width:18em}input{font-size:1em;padding:.5em}button{font-size:1em;padding:.5em}"
    ".problem{color:#f77}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
PAGE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (
        b"content-security-policy",
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'".encode(),
    ),
    (b"x-content-type-options", b"nosniff"),
]
MAX_FORM_BYTES = 4096


def page(next_path: str, problem: str = "") -> bytes:
    note = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>Powerwall: sign in</title><style>{_STYLE}</style></head><body>"
        f'<form method=post action="login?next={html.escape(quote(next_path, safe="/"))}">'
        "<h1>Powerwall</h1>"
        "<label for=token>Read token</label><input id=token name=token type=password "
        "autocomplete=current-password required autofocus>"
        f"{note}<button type=submit>Sign in</button></form></body></html>"
    ).encode()


def safe_next(value: str | None) -> str:
    """A path on this server, or "/": never another site (`//evil`, `/\\evil`, `https:`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(char) < 0x21 for char in value):
        return "/"
    return value


def form_token(body: bytes) -> str:
    values = parse_qs(body.decode("latin-1"), max_num_fields=8).get("token", [""])
    return values[0]


def cookie_header(value: str, secure: bool, max_age: int | None = None) -> bytes:
    parts = [f"pw_read={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode()
