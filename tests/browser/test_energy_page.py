"""The /energy page in a real Chromium, drawing the history API's answers (served from
tests/browser/history_fixtures.py until the real store is wired): day, week, month and
year bars with totals, self-powered % and cost; previous/next; a day's power with hover
values; the outage list; history off said plainly. And the flow page's charts reading the
server's history when it keeps one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from .conftest import Site, watch
from .history_fixtures import energy_answer, serve_history

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DAY = date(2026, 6, 21)
BARS = "() => document.querySelectorAll('#chart-energy g.bucket').length"


def kwh(wh: float) -> str:
    k = wh / 1000
    return f"{k:.2f} kWh" if abs(k) < 10 else f"{k:.1f} kWh"


def tile(page: Any, key: str) -> str:
    return page.text_content(f"#totals [data-key='{key}'] strong") or ""


def open_energy(page: Any, site: Site, query: str) -> None:
    page.goto(f"{site.url}/energy?{query}")
    page.wait_for_selector("#chart-energy svg", timeout=10_000)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_a_day_in_bars_totals_power_and_outages(
    site: Site, new_page: Callable[..., Any], artifacts: Path, width: int, scheme: str
) -> None:
    page = new_page(width, 1000, scheme=scheme)
    seen = watch(page)
    serve_history(page)
    open_energy(page, site, f"view=day&date={DAY}")
    expected = energy_answer("day", DAY)
    assert page.evaluate(BARS) == 24
    totals = expected["totals"]
    assert tile(page, "solar") == kwh(totals["solar_wh"])
    assert tile(page, "home") == kwh(totals["home_wh"])
    assert tile(page, "grid") == kwh(totals["grid_import_wh"])
    assert tile(page, "grid-out") == kwh(totals["grid_export_wh"])
    assert tile(page, "self") == f"{round(totals['self_powered_pct'])} %"
    assert tile(page, "cost") == f"{totals['cost']:.2f}"
    assert page.is_visible("#estimated-note")  # one bucket of the day is estimated
    page.wait_for_selector("#chart-day path[data-series='solar_w']")
    assert page.locator("#chart-day .legend span").count() == 4
    page.locator("#chart-day svg").scroll_into_view_if_needed()
    box = page.locator("#chart-day svg").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] / 2)
    readout = page.text_content("#day-readout") or ""
    assert "Solar" in readout and "kW" in readout and "charge" in readout
    page.hover("#chart-energy g.bucket[data-index='12']")
    assert "Solar" in (page.text_content("#energy-readout") or "")
    page.wait_for_selector("#outage-list table")
    assert "47 min" in (page.text_content("#outage-list") or "")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
    page.screenshot(path=artifacts / f"energy-day-{width}-{scheme}.png", full_page=True)
    assert seen.problems() == []


@pytest.mark.parametrize(("view", "bars"), [("week", 7), ("month", 30), ("year", 12)])
def test_week_month_and_year_views(
    site: Site, new_page: Callable[..., Any], artifacts: Path, view: str, bars: int
) -> None:
    page = new_page(1280, 900)
    asked = serve_history(page)
    open_energy(page, site, f"view=day&date={DAY}")
    page.click(f"[data-view='{view}']")
    page.wait_for_function(f"() => ({BARS})() === {bars}")
    assert page.get_attribute(f"[data-view='{view}']", "aria-pressed") == "true"
    assert any(f"period={view}" in url for url in asked)
    assert page.is_hidden("#day-power")
    page.screenshot(path=artifacts / f"energy-{view}-1280-light.png", full_page=True)


def test_previous_and_next_move_by_the_period(site: Site, new_page: Callable[..., Any]) -> None:
    page = new_page()
    asked = serve_history(page)
    open_energy(page, site, f"view=day&date={DAY}")
    title = page.text_content("#period-title")
    page.click("#prev")
    page.wait_for_function(
        f"() => document.getElementById('period-title').textContent !== {title!r}"
    )
    assert f"date={DAY - timedelta(days=1)}" in page.url
    assert any(f"date={DAY - timedelta(days=1)}" in url for url in asked)
    page.click("#next")
    page.click("#next")
    page.wait_for_function(f"() => location.search.includes('date={DAY + timedelta(days=1)}')")
    page.goto(f"{site.url}/energy?view=day")  # today: nothing to go forward to
    page.wait_for_selector("#chart-energy svg")
    assert page.is_disabled("#next")


def test_history_off_is_said_plainly(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(390, 800)
    serve_history(page, off="PW_HISTORY=no")
    page.goto(f"{site.url}/energy")
    page.wait_for_selector("#energy-message:not([hidden])")
    assert "History is not available: PW_HISTORY=no" in (page.text_content("#energy-message") or "")
    page.screenshot(path=artifacts / "energy-off-390-light.png", full_page=True)


def test_the_flow_pages_charts_read_the_servers_history(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    asked = serve_history(page)
    page.goto(f"{site.url}/")
    page.wait_for_function(
        "() => Number(document.querySelector('#chart-power svg')?.dataset.points || 0) > 1000",
        timeout=10_000,
    )
    assert any("/api/history/power" in url for url in asked)
    assert "server" in (page.text_content("#history-note") or "")
    assert page.is_hidden("#history-clear")


def test_the_flow_pages_charts_stay_in_the_browser_when_history_is_off(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    asked = serve_history(page, off="PW_HISTORY=no")
    page.goto(f"{site.url}/")
    page.wait_for_selector("#chart-power svg", timeout=10_000)
    page.wait_for_function("() => document.getElementById('label-home').dataset.watts")
    assert asked == []  # the page says history is off: the history routes are never asked
    assert "this browser" in (page.text_content("#history-note") or "")
