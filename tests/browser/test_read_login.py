"""PW_READ_TOKEN in a real Chromium: a visit is sent to the login page, a wrong token is
told so, the right one lands on the page asked for, whose data (HTTP and the WebSocket
stream) then arrives through the cookie; signing out locks the page again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from .conftest import Site, SiteOptions, start_site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TOKEN = "browser-read-token-0123456"
HAS_DATA = "() => Boolean(document.getElementById('label-home')?.dataset.watts)"


@pytest.fixture(scope="module")
def guarded_site() -> Iterator[Site]:
    yield from start_site(SiteOptions(server={"read_token": SecretStr(TOKEN)}))


def test_login_page_flow(guarded_site: Site, new_page: Callable[..., Any], artifacts: Path) -> None:
    page = new_page()
    page.goto(f"{guarded_site.url}/gw/home/")
    assert page.url == f"{guarded_site.url}/login?next=/gw/home/"
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert page.text_content("[role=alert]") == "wrong token"
    seen = watch(page)
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{guarded_site.url}/gw/home/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    page.screenshot(path=str(artifacts / "read-login-after.png"))
    assert seen.problems() == []
    cookie = next(c for c in page.context.cookies() if c["name"] == "pw_read")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert TOKEN not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # not readable by scripts
    page.context.request.post(f"{guarded_site.url}/logout")
    page.goto(f"{guarded_site.url}/")
    assert page.url.startswith(f"{guarded_site.url}/login")
