"""The power flow as the Tesla app draws it, on the simulator in a real Chromium: one line
per flow with its own value, direction readable in a still picture, no motion when the
user asks for none, outages and stale data said once with a reason, a silent WebSocket
given up for polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import STALE_AFTER_S, Site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

HAS_DATA = "() => Boolean(document.getElementById('label-home')?.dataset.watts)"
FLOWS = """() => Object.fromEntries([...document.querySelectorAll('#flow-svg g.flow')].map(
  (g) => [g.id.replace('flow-', ''),
          g.getAttribute('display') === 'none' ? 0 : Number(g.dataset.watts)]))"""
SPLIT = """async (power) => (await import('./ui/flow.js')).splitFlows(power)"""


def test_each_flow_has_its_own_line_value_and_arrow(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(1280, 900)
    seen = watch(page)
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    # The lines split the meters the page shows (those equal the API's: test_flow_page.py).
    power = page.evaluate(
        "Object.fromEntries(['solar', 'grid', 'home', 'battery'].map((k) => [k,"
        " Number(document.getElementById(`label-${k}`).dataset.watts)]))"
    )
    power = {
        "solar": power["solar"],
        "site": power["grid"],
        "load": power["home"],
        "battery": power["battery"],
    }
    expected = page.evaluate(SPLIT, power)
    shown = page.evaluate(FLOWS)
    for name, watts in expected.items():
        assert shown[name] == (round(watts) if watts >= 50 else 0), name
    drawn = [name for name, watts in shown.items() if watts]
    assert drawn, "at noon something flows"
    for name in drawn:
        assert (
            page.get_attribute(f"#flow-{name} path", "marker-end")
            == f"url(#arrow-{name.split('_')[0]})"
        )
        label = page.text_content(f"#flowlabel-{name}") or ""
        assert label == f"{expected[name] / 1000:.1f} kW"
    # The meters' directions in words, readable in a screenshot.
    grid_word = page.text_content("#dir-grid") or ""
    assert grid_word == (
        " · importing" if power["site"] >= 50 else " · exporting" if power["site"] <= -50 else ""
    )
    assert seen.problems() == []
    page.screenshot(path=artifacts / "flows-1280-light.png")


def test_the_flow_rule_on_a_table_of_meter_readings(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    page.goto(f"{site.url}/")
    cases = [  # meters -> flows (W); the rule is documented in ui/flow.js and docs/web-ui.md
        (
            {"solar": 5000, "battery": -2000, "site": -1000, "load": 2000},
            {"solar_home": 2000, "solar_battery": 2000, "solar_grid": 1000},
        ),
        (
            {"solar": 0, "battery": 1500, "site": 500, "load": 2000},
            {"battery_home": 1500, "grid_home": 500},
        ),
        (
            {"solar": 0, "battery": -3000, "site": 4000, "load": 1000},
            {"grid_home": 1000, "grid_battery": 3000},
        ),
        (
            {"solar": 1000, "battery": 3000, "site": -3500, "load": 500},
            {"solar_home": 500, "solar_grid": 500, "battery_grid": 3000},
        ),
        # meters that disagree by 300 W: no flow is more than either end says
        ({"solar": 2000, "battery": 0, "site": 0, "load": 2300}, {"solar_home": 2000}),
    ]
    for meters, flows in cases:
        got = {k: v for k, v in page.evaluate(SPLIT, meters).items() if v}
        assert got == flows, meters


def test_speed_grows_up_to_ten_kilowatts_and_small_flows_stay_still(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    page.goto(f"{site.url}/")
    speeds = page.evaluate(
        "async () => { const f = await import('./ui/flow.js');"
        " return [50, 1000, 5300, 9000, 10000, 20000].map(f.dashSeconds); }"
    )
    assert speeds == sorted(speeds, reverse=True)
    assert speeds[2] > speeds[3] > speeds[4]  # still faster between 5.3 and 10 kW
    assert speeds[4] == speeds[5]
    split = page.evaluate(SPLIT, {"solar": 30, "battery": 0, "site": 0, "load": 30})
    assert split["solar_home"] == 30
    page.wait_for_function(HAS_DATA, timeout=10_000)
    # 30 W would read "0.0 kW": no line is drawn for it.
    hidden = page.evaluate(
        "async () => { const f = await import('./ui/flow.js');"
        " const box = document.createElement('div'); const v = new f.FlowView(box);"
        " v.render({power: {solar: 30, battery: 0, site: 0, load: 30}, soe: 50, hasSolar: true,"
        " hasBattery: true}); return v.flows.solar_home.group.getAttribute('display'); }"
    )
    assert hidden == "none"


def test_the_dashes_move_unless_reduced_motion_is_asked(
    site: Site, browser: Any, new_page: Callable[..., Any]
) -> None:
    moving = new_page()
    moving.goto(f"{site.url}/")
    moving.wait_for_function(HAS_DATA, timeout=10_000)
    assert moving.get_attribute("#flow-svg", "data-motion") == "on"
    first = "document.querySelector('#flow-svg g.flow:not([display=none]) path')"
    moving.wait_for_function(f"() => {first}.getAttribute('stroke-dashoffset') !== null")
    start = moving.evaluate(f"{first}.getAttribute('stroke-dashoffset')")
    moving.wait_for_function(f"() => {first}.getAttribute('stroke-dashoffset') !== {start!r}")
    context = browser.new_context(reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(f"{site.url}/")
        page.wait_for_function(HAS_DATA, timeout=10_000)
        assert page.get_attribute("#flow-svg", "data-motion") == "off"
        dashes = page.evaluate(
            "[...document.querySelectorAll('#flow-svg g.flow:not([display=none]) path')]"
            ".map((p) => [getComputedStyle(p).strokeDasharray,"
            " p.getAttribute('stroke-dashoffset')])"
        )
        assert dashes and all(d == ["none", None] for d in dashes)  # solid, still arrows
    finally:
        context.close()


def test_an_outage_is_a_red_banner_and_off_grid_in_red(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(1280, 900, scheme="dark")
    whole = new_page(390, 844)
    page.goto(f"{site.url}/gw/home/")
    whole.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    whole.wait_for_function(HAS_DATA, timeout=10_000)
    fault = site.admin("POST", "/gateways/home/faults", {"kind": "grid_outage"})["fault"]
    try:
        page.wait_for_selector("#outage:not([hidden])", timeout=5_000)
        assert "Grid outage" in (page.text_content("#outage") or "")
        red = page.evaluate("getComputedStyle(document.getElementById('off-grid-text')).fill")
        assert red == "rgb(255, 123, 123)"  # the dark theme's --down, not the text colour
        page.screenshot(path=artifacts / "outage-1280-dark.png")
        # The site page: one of two gateways is off grid; the grid is not crossed out.
        whole.wait_for_function(
            "() => document.getElementById('outage').textContent.includes('Grid outage at ')",
            timeout=5_000,
        )
        names = [g["name"] for g in site.get("/api/gateways")["gateways"] if g["id"] == "home"]
        assert names[0] in (whole.text_content("#outage") or "")
        assert not whole.evaluate(
            "document.getElementById('flow-svg').classList.contains('off-grid')"
        )
        whole.screenshot(path=artifacts / "outage-partial-390-light.png", full_page=True)
    finally:
        site.admin("DELETE", f"/gateways/home/faults/{fault['id']}")
    page.wait_for_selector("#outage", state="hidden", timeout=5_000)


def test_a_stale_gateway_gives_one_counting_message_and_keeps_the_grid(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(1920, 1080)
    kiosk = new_page(1920, 1080)
    page.goto(f"{site.url}/")
    kiosk.goto(f"{site.url}/gw/cabin/?kiosk=1")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    kiosk.wait_for_function(HAS_DATA, timeout=10_000)
    site.admin("POST", "/gateways/cabin/faults", {"kind": "hang"})
    try:
        page.wait_for_function(
            "() => document.getElementById('banner').textContent"
            ".includes('left out of the totals')",
            timeout=(STALE_AFTER_S + 4) * 1000,
        )
        first = page.text_content("#banner") or ""
        page.wait_for_function(
            f"() => document.getElementById('banner').textContent !== {first!r}", timeout=4_000
        )
        assert not page.evaluate(
            "document.getElementById('flow-svg').classList.contains('off-grid')"
        )
        kiosk.wait_for_function(
            "() => document.body.classList.contains('stale')", timeout=(STALE_AFTER_S + 4) * 1000
        )
        text = kiosk.text_content("#banner") or ""
        assert text.startswith("No data from the gateway for ")
        assert (kiosk.text_content("#data-age") or "") == ""  # one message, not three
        assert "Waiting" not in (kiosk.text_content("#status-sentence") or "")
        sizes = kiosk.evaluate(
            "[parseFloat(getComputedStyle(document.getElementById('banner')).fontSize),"
            " parseFloat(getComputedStyle(document.getElementById('status-sentence')).fontSize)]"
        )
        assert sizes[0] >= sizes[1]
        kiosk.screenshot(path=artifacts / "stale-kiosk-1920-light.png")
        page.screenshot(path=artifacts / "stale-partial-1920-light.png")
    finally:
        site.admin("DELETE", "/gateways/cabin/faults")
    page.wait_for_function("() => document.getElementById('banner').hidden", timeout=15_000)


def test_a_silent_websocket_is_given_up_for_polling(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    seen = watch(page)
    opened: list[str] = []

    def silent(ws: Any) -> None:  # accepted, then nothing: as a proxy that buffers for ever
        opened.append(ws.url)

    page.route_web_socket("**/ws/**", silent)
    started = time.monotonic()
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=15_000)
    page.wait_for_function(
        "() => document.getElementById('data-age').textContent.includes('(polling)')"
    )
    assert time.monotonic() - started < 12
    assert opened
    assert "Cannot reach" not in (page.text_content("#status-sentence") or "")
    assert page.is_hidden("#banner")
    assert seen.problems() == []


def test_nothing_says_the_server_is_unreachable_before_anything_failed(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    texts: list[str] = []
    page.expose_function("note", lambda text: texts.append(text))
    page.add_init_script(
        "new MutationObserver(() => window.note(document.body.innerText))"
        ".observe(document, {subtree: true, childList: true, characterData: true})"
    )
    page.goto(f"{site.url}/")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    assert not any("Cannot reach" in t for t in texts)


@pytest.mark.parametrize(
    ("style", "scheme", "background"),
    [
        ("white", "dark", "rgb(255, 255, 255)"),
        ("black", "light", "rgb(0, 0, 0)"),
        ("solar", "dark", "rgb(255, 253, 245)"),
        ("grafana-dark", "light", "rgb(17, 18, 23)"),
    ],
)
def test_a_style_sets_its_whole_palette_whatever_the_os_theme(
    site: Site,
    new_page: Callable[..., Any],
    artifacts: Path,
    style: str,
    scheme: str,
    background: str,
) -> None:
    page = new_page(1280, 800, scheme=scheme)
    page.goto(f"{site.url}/?style={style}")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    page.screenshot(path=artifacts / f"style-{style}-on-{scheme}.png")


def test_clear_stays_transparent_in_a_frame_and_the_switcher_keeps_the_look(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page(1000, 900, scheme="dark")
    page.goto(f"{site.url}/example.html")
    page.evaluate(
        "document.querySelector('iframe.embed').src = document.querySelector('iframe.embed').src"
        ".replace('kiosk=1', 'kiosk=1&style=clear')"
    )
    frame = page.frame_locator("iframe.embed")
    frame.locator("#label-home[data-watts]").wait_for(timeout=10_000)
    inner = frame.locator("html")
    assert inner.evaluate("(n) => getComputedStyle(n).colorScheme") == "normal"
    assert inner.evaluate("(n) => getComputedStyle(document.body).backgroundColor") == (
        "rgba(0, 0, 0, 0)"
    )
    switcher = new_page()
    switcher.goto(f"{site.url}/?style=black&theme=dark")
    switcher.wait_for_selector("#gateway-select option[value='cabin']", state="attached")
    switcher.select_option("#gateway-select", "cabin")
    switcher.wait_for_url("**gw=cabin**")
    assert "style=black" in switcher.url and "theme=dark" in switcher.url
    assert "style=black" in (switcher.get_attribute("nav a[href*='console']", "href") or "")


def test_an_unknown_gateway_gets_a_page_that_says_so(
    site: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    response = page.goto(f"{site.url}/gw/nope/")
    assert response is not None and response.status == 404
    page.wait_for_function(
        "() => document.getElementById('banner').textContent.includes('Unknown gateway')",
        timeout=10_000,
    )
