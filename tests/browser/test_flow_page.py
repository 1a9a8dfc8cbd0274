"""The power-flow page in a real Chromium, on the simulator: clean load, the API's numbers,
a grid outage and a hung gateway shown in time, history kept across a reload."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import STALE_AFTER_S, Site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

FLOW_VALUES = """() => {
  const watts = (key) => document.getElementById(`label-${key}`).dataset.watts;
  return {solar: watts("solar"), site: watts("grid"), load: watts("home"),
          battery: watts("battery"),
          soe: document.getElementById("soe-text").dataset.percent,
          labels: ["solar", "grid", "home", "battery"].map(
            (k) => document.getElementById(`label-${k}`).textContent)};
}"""
HAS_DATA = "() => Boolean(document.getElementById('label-home')?.dataset.watts)"


def kw_text(watts: float) -> str:
    return f"{abs(watts) / 1000:.1f} kW"


def test_flow_loads_clean_and_shows_the_apis_numbers(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page()
    seen = watch(page)
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    page.wait_for_timeout(2_000)  # a few updates, any late request or error
    # The simulator's clock stands still: the page and the API show the same state.
    shown = page.evaluate(FLOW_VALUES)
    power = site.get("/api/aggregate/power")
    soe = site.get("/api/aggregate/soe")
    for key in ("solar", "site", "load", "battery"):
        assert float(shown[key]) == pytest.approx(power[key]), key
    assert float(shown["soe"]) == pytest.approx(soe["percent_app"])
    assert shown["labels"] == [kw_text(power[k]) for k in ("solar", "site", "load", "battery")]
    assert page.text_content("#soe-text") == f"{round(soe['percent_app'])} %"
    sentence = page.text_content("#status-sentence") or ""
    assert f"{round(soe['percent_app'])} %" in sentence
    assert "Updated" in (page.text_content("#data-age") or "")
    assert seen.problems() == [] and seen.dialogs == []
    page.screenshot(path=artifacts / "flow-light.png", full_page=True)


def test_grid_outage_shows_within_two_seconds(site: Site, new_page: Callable[..., Any]) -> None:
    page = new_page()
    seen = watch(page)
    page.goto(f"{site.url}/gw/home/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    assert (
        page.evaluate("document.getElementById('flow-svg').classList.contains('off-grid')") is False
    )
    fault = site.admin("POST", "/gateways/home/faults", {"kind": "grid_outage"})["fault"]
    injected = time.monotonic()
    try:
        page.wait_for_function(
            "() => document.getElementById('flow-svg').classList.contains('off-grid')",
            timeout=2_000,
        )
        assert time.monotonic() - injected <= 2.0
        assert page.is_visible("#off-grid-text")
        assert (page.text_content("#status-sentence") or "").startswith("Off grid")
    finally:
        site.admin("DELETE", f"/gateways/home/faults/{fault['id']}")
    page.wait_for_function(
        "() => !document.getElementById('flow-svg').classList.contains('off-grid')", timeout=5_000
    )
    assert seen.problems() == []


def test_a_hung_gateway_is_shown_stale_within_its_limit(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    page.goto(f"{site.url}/gw/cabin/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    assert page.evaluate("document.body.classList.contains('stale')") is False
    everything = new_page()  # the aggregate page names it and leaves it out of the totals
    everything.goto(f"{site.url}/")
    everything.wait_for_function(HAS_DATA, timeout=10_000)
    site.admin("POST", "/gateways/cabin/faults", {"kind": "hang"})
    hung = time.monotonic()
    try:
        # Stale once its newest data is older than the limit; the stream re-checks each second.
        page.wait_for_function(
            "() => document.body.classList.contains('stale')", timeout=(STALE_AFTER_S + 2.5) * 1000
        )
        assert time.monotonic() - hung <= STALE_AFTER_S + 2.5
        banner = page.text_content("#banner") or ""
        assert page.is_visible("#banner") and banner.startswith("No data from the gateway for ")
        everything.wait_for_function(
            "() => document.getElementById('banner').textContent.includes('left out')",
            timeout=3_000,
        )
        (cabin,) = [g["name"] for g in site.get("/api/gateways")["gateways"] if g["id"] == "cabin"]
        assert (everything.text_content("#banner") or "").startswith(f"{cabin}: no data for ")
        shown = everything.evaluate(FLOW_VALUES)
        assert float(shown["load"]) == pytest.approx(site.get("/api/aggregate/power")["load"])
    finally:
        site.admin("DELETE", "/gateways/cabin/faults")
    page.wait_for_function("() => !document.body.classList.contains('stale')", timeout=15_000)
    assert page.is_hidden("#banner")


def test_history_survives_a_reload(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page()
    # A point stored a minute ago (as by an earlier visit), so the first live update adds
    # the second one at once instead of 30 s later (one point per 30 s per series).
    stored = "{v: 1, series: {aggregate: [[Math.round(Date.now() / 1000) - 60, 0, 0, 0, 0, 50]]}}"
    page.add_init_script(
        f"if (!localStorage.getItem('pps-history-v1')) "
        f"localStorage.setItem('pps-history-v1', JSON.stringify({stored}))"
    )
    page.goto(f"{site.url}/")
    points = "() => Number(document.querySelector('#chart-power svg')?.dataset.points || 0)"
    page.wait_for_function(f"() => ({points})() >= 1", timeout=10_000)
    first = page.evaluate("document.querySelector('#chart-power svg').dataset.first")
    page.wait_for_function(f"() => ({points})() >= 2", timeout=40_000)  # the live point
    page.reload()
    page.wait_for_selector("#chart-power svg")
    assert page.evaluate(points) >= 2
    assert page.evaluate("document.querySelector('#chart-power svg').dataset.first") == first
    assert page.locator("#chart-soe svg polyline").count() == 1
    page.screenshot(path=artifacts / "history-after-reload.png", full_page=True)
    page.click("#history-clear")
    assert page.evaluate(points) == 0


def test_polls_the_rest_api_when_websockets_are_blocked(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    seen = watch(page)
    refused: list[str] = []

    def refuse(ws: Any) -> None:  # as a proxy that does not pass WebSockets would
        refused.append(ws.url)
        ws.close()

    page.route_web_socket("**/ws/**", refuse)
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=20_000)
    page.wait_for_function(
        "() => document.getElementById('data-age').textContent.includes('(polling)')"
    )
    assert len(refused) >= 1  # polling starts at the first failure, the stream is retried
    shown = page.evaluate(FLOW_VALUES)
    power = site.get("/api/aggregate/power")
    for key in ("solar", "site", "load", "battery"):
        assert float(shown[key]) == pytest.approx(power[key]), key
    assert page.evaluate("document.body.classList.contains('stale')") is False
    assert seen.problems() == []


def test_an_open_page_does_not_grow(site: Site, new_page: Callable[..., Any]) -> None:
    """Updates change the drawing in place: no new DOM nodes or listeners per message."""
    page = new_page()
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")

    def metrics() -> dict[str, float]:
        session.send("HeapProfiler.collectGarbage")
        values = session.send("Performance.getMetrics")["metrics"]
        return {m["name"]: m["value"] for m in values}

    page.wait_for_timeout(3_000)
    before = metrics()
    page.wait_for_timeout(12_000)  # about 12 stream messages (at most one a second)
    after = metrics()
    assert after["JSEventListeners"] <= before["JSEventListeners"]
    assert after["Nodes"] <= before["Nodes"] + 20  # a history chart may gain one point
    assert after["JSHeapUsedSize"] <= before["JSHeapUsedSize"] * 1.5


def test_every_gateway_hung_greys_the_whole_flow(site: Site, new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    site.admin("POST", "/faults", {"kind": "hang"})
    try:
        page.wait_for_function(
            "() => document.body.classList.contains('stale')", timeout=(STALE_AFTER_S + 2.5) * 1000
        )
        page.wait_for_function(
            "() => /^No data from any gateway for \\d+ s/"
            ".test(document.getElementById('banner').textContent)"
        )
        opacity = page.evaluate("getComputedStyle(document.getElementById('flow')).opacity")
        assert float(opacity) < 0.5  # greyed, not shown as live
    finally:
        site.admin("DELETE", "/faults")
    page.wait_for_function("() => !document.body.classList.contains('stale')", timeout=15_000)
