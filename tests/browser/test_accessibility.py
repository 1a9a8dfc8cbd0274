"""axe-core (the copy the axe-playwright-python package ships) finds no violation on any of
our pages, in each look and colour scheme. Swagger UI and ReDoc are third party: their
counts are printed, not asserted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Site
from .history_fixtures import serve_history

pytestmark = [pytest.mark.integration, pytest.mark.browser]

STYLES = ("clear", "black", "white", "grafana", "grafana-dark", "solar", "dakboard")
PAGES = {
    "/": "#label-home[data-watts]:not([data-watts=''])",
    "/gw/home/": "#label-home[data-watts]:not([data-watts=''])",
    "/?kiosk=1": "#label-home[data-watts]:not([data-watts=''])",
    "/console": "#detail .cards",
    "/energy": "#chart-energy svg",
}


def violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = results.response["violations"]
    return [f"{v['id']}: {v['help']} @ {[n['target'] for n in v['nodes']][:4]}" for v in found]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", list(PAGES))
def test_no_axe_violations_on_each_page(
    site: Site, new_page: Callable[..., Any], path: str, scheme: str
) -> None:
    page = new_page(1280, 900, scheme=scheme)
    serve_history(page)
    page.goto(f"{site.url}{path}")
    page.wait_for_selector(PAGES[path], timeout=15_000)
    page.wait_for_timeout(300)
    assert violations(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("style", STYLES)
def test_no_axe_violations_in_each_style(
    site: Site, new_page: Callable[..., Any], style: str, scheme: str
) -> None:
    page = new_page(1280, 900, scheme=scheme)
    page.goto(f"{site.url}/?style={style}")
    page.wait_for_selector(PAGES["/"], timeout=15_000)
    page.wait_for_timeout(300)
    assert violations(page) == []


@pytest.mark.figures  # counted for BENCHMARKS.md/docs (make bench-ui), not ours to fix
def test_third_party_doc_pages_are_counted(site: Site, new_page: Callable[..., Any]) -> None:
    counts = {}
    for path, ready in (("/docs", ".swagger-ui .info"), ("/redoc", "redoc-wrap, .api-content")):
        page = new_page(1280, 900)
        page.goto(f"{site.url}{path}")
        page.wait_for_selector(ready, timeout=20_000)
        counts[path] = len(violations(page))
    print(f"\naxe violations on third-party pages (not ours to fix): {counts}")
    assert set(counts) == {"/docs", "/redoc"}
