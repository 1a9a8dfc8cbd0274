"""The login page's pieces: where it may send the browser back to, and the cookie."""

from __future__ import annotations

import asyncio

import pytest

from pypowerwall_server.http import login_page
from pypowerwall_server.http.admission import Admission
from pypowerwall_server.http.read_auth import ReadAuth


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        ("/gw/home/", "/gw/home/"),
        ("/csv?headers", "/csv?headers"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        (None, "/"),
    ],
)
def test_next_is_a_path_on_this_server(asked: str | None, sent: str) -> None:
    assert login_page.safe_next(asked) == sent


def test_the_cookie_is_secure_over_https_only() -> None:
    plain = login_page.cookie_header("abc", secure=False).decode()
    assert plain == "pw_read=abc; Path=/; HttpOnly; SameSite=Strict"
    assert login_page.cookie_header("abc", secure=True).decode().endswith("; Secure")


def test_the_page_escapes_next() -> None:
    page = login_page.page('/"><script>x</script>', "wrong <token>").decode()
    assert "<script>x" not in page and "wrong &lt;token&gt;" in page


def test_a_login_over_https_sets_a_secure_cookie() -> None:
    token = "https-read-token-0123"
    admission = Admission(None, ReadAuth(token), "")
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": "/login",
        "query_string": b"next=/soe",
        "headers": [(b"host", b"pw.example")],
        "client": ("10.0.0.9", 5555),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": f"token={token}".encode(), "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    assert asyncio.run(admission.admit(scope, receive, send)) is False
    start = sent[0]
    headers = dict(start["headers"])  # type: ignore[call-overload]
    assert start["status"] == 303 and headers[b"location"] == b"/soe"
    assert headers[b"set-cookie"].endswith(b"; Secure")
