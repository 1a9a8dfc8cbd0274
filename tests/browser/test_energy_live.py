"""The /energy page and the flow page's charts against the real history store (no route
fixtures): a server with history on, polling the simulator, drawn in Chromium."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.waiting import wait_until

from .conftest import Site, SiteOptions, start_site
from .test_energy_page import kwh, open_energy, tile

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def history_site() -> Iterator[Site]:
    yield from start_site(SiteOptions(server={"history": True}))


def test_the_energy_page_shows_the_sites_today_whatever_the_browsers_date(
    history_site: Site, new_page: Callable[..., Any]
) -> None:
    """The days are the gateways' local days: a browser whose clock says another date (two
    days ahead here; in practice another time zone) still opens on the site's today."""

    def today() -> dict[str, Any]:
        return history_site.get("/api/history/energy?period=day")

    wait_until(lambda: today()["totals"]["home_wh"] is not None, 30)
    page = new_page(1280, 900)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.clock.set_fixed_time(time.time() + 2 * 86400)
    open_energy(page, history_site, "view=day")
    buckets = len(today()["buckets"])
    page.wait_for_function(
        f"() => document.querySelectorAll('#chart-energy g.bucket').length === {buckets}"
    )
    # the tile shows the store's total of the moment (it only grows while the page loads)
    shown = tile(page, "home")
    assert shown.endswith("kWh") and shown == kwh(float(shown.split()[0]) * 1000)
    assert float(shown.split()[0]) * 1000 <= today()["totals"]["home_wh"] + 5
    assert page.is_hidden("#energy-message") and errors == []
    assert f"date={today()['date']}" in page.url  # the site's today, not the browser's


def test_the_flow_pages_charts_read_the_store(
    history_site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page(1280, 900)
    page.goto(history_site.url + "/")
    page.wait_for_selector("#chart-power svg", timeout=10_000)
    page.wait_for_function("() => document.documentElement.dataset.history === 'on'")
    page.wait_for_function(
        "() => (document.querySelector('#history-note')?.textContent || '').includes('server')"
    )
