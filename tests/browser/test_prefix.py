"""The UI behind a reverse proxy under /powerwall/: the page, its assets and its WebSocket
work, whether the proxy strips the prefix (nothing to configure: every URL is relative) or
keeps it (PW_ROOT_PATH=/powerwall)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Site, SiteOptions, start_site, watch
from .prefix_proxy import PrefixProxy

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PREFIX = "/powerwall"
HAS_DATA = "() => Boolean(document.getElementById('label-home')?.dataset.watts)"


@pytest.fixture(scope="module")
def rooted_site() -> Iterator[Site]:
    yield from start_site(SiteOptions(server={"root_path": PREFIX}))


def check_behind(proxy_url: str, new_page: Callable[..., Any], artifacts: Path, name: str) -> None:
    page = new_page()
    seen = watch(page)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    responses: list[str] = []
    page.on("response", lambda r: responses.append(r.url))
    page.goto(f"{proxy_url}{PREFIX}/")
    page.wait_for_function(HAS_DATA, timeout=15_000)
    page.wait_for_function(
        "() => document.getElementById('data-age').textContent.startsWith('Updated')"
    )
    assert "(polling)" not in (page.text_content("#data-age") or "")  # data came by WebSocket
    assert sockets == [f"{proxy_url.replace('http', 'ws')}{PREFIX}/ws/aggregate"]
    assert all(url.startswith(f"{proxy_url}{PREFIX}/") for url in responses), responses
    assert any(url.endswith("/ui/flow.js") for url in responses)
    # The gateway page (two levels deeper) and the console, through the same prefix.
    page.goto(f"{proxy_url}{PREFIX}/gw/cabin/")
    page.wait_for_function(HAS_DATA, timeout=15_000)
    assert sockets[-1] == f"{proxy_url.replace('http', 'ws')}{PREFIX}/ws/gateway/cabin"
    page.goto(f"{proxy_url}{PREFIX}/console")
    page.wait_for_selector("#gateways tbody tr[data-id='cabin']")
    page.screenshot(path=artifacts / f"{name}.png")
    # Leaving a page aborts what it still loads (e.g. its icon): that is the navigation, not
    # the proxy; every asset that matters was checked above on the page that used it.
    expected = ("/temps", "status of 503", "net::ERR_ABORTED")
    problems = [p for p in seen.problems() if not any(e in p for e in expected)]
    assert problems == []


def test_behind_a_proxy_that_strips_the_prefix(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    with PrefixProxy(site.server.port, PREFIX, strip=True) as proxy:
        check_behind(f"http://127.0.0.1:{proxy.port}", new_page, artifacts, "prefix-stripped")


def test_behind_a_proxy_that_keeps_the_prefix(
    rooted_site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    with PrefixProxy(rooted_site.server.port, PREFIX, strip=False) as proxy:
        check_behind(f"http://127.0.0.1:{proxy.port}", new_page, artifacts, "prefix-kept")
