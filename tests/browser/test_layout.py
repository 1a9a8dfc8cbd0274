"""Kiosk, console, dark theme and a 360 px phone: screenshots kept as test artefacts, and
asserted: the flow's drawing is inside the viewport and no text overflows its box."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

HAS_DATA = "() => Boolean(document.getElementById('label-home')?.dataset.watts)"
# Elements whose text would be cut or spill: wider content than box (1 px rounding allowed).
OVERFLOWING = """() => {
  const out = [];
  const boxes = "p, td, th, li, dd, dt, h1, h2, h3, a, button, .banner";
  for (const node of document.querySelectorAll(boxes)) {
    if (node.offsetParent === null || node.classList.contains("visually-hidden")) continue;
    if (node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).display !== "inline") {
      out.push(`${node.tagName}#${node.id}: ${node.textContent.slice(0, 40)}`);
    }
  }
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth + 1) out.push("page scrolls sideways");
  return out;
}"""


def flow_box(page: Any) -> dict[str, float]:
    box: dict[str, float] = page.evaluate(
        "(() => { const r = document.getElementById('flow-svg').getBoundingClientRect();"
        " return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,"
        " width: innerWidth, height: innerHeight}; })()"
    )
    return box


def assert_flow_inside(page: Any, vertically: bool) -> None:
    box = flow_box(page)
    assert box["left"] >= 0 and box["right"] <= box["width"] + 0.5, box
    if vertically:
        assert box["top"] >= 0 and box["bottom"] <= box["height"] + 0.5, box


@pytest.mark.parametrize(
    ("name", "path", "size", "scheme"),
    [
        ("kiosk-dark", "/?kiosk=1", (1280, 720), "dark"),
        ("kiosk-phone", "/?kiosk=1", (360, 640), "light"),
        ("flow-dark", "/", (1000, 900), "dark"),
        ("flow-phone-360", "/", (360, 740), "light"),
        ("flow-phone-320", "/", (320, 640), "light"),
        ("flow-grafana-dark", "/?kiosk=1&style=grafana-dark", (480, 360), "light"),
    ],
)
def test_flow_layouts(
    site: Site,
    new_page: Callable[..., Any],
    artifacts: Path,
    name: str,
    path: str,
    size: tuple[int, int],
    scheme: str,
) -> None:
    page = new_page(*size, scheme=scheme)
    seen = watch(page)
    page.goto(f"{site.url}{path}")
    page.wait_for_function(HAS_DATA, timeout=10_000)
    page.wait_for_timeout(500)
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    kiosk = "kiosk=1" in path
    assert_flow_inside(page, vertically=kiosk)
    assert page.evaluate(OVERFLOWING) == []
    if kiosk:
        assert page.is_hidden(".bar") and page.is_hidden("#history")
    if scheme == "dark" and "style=" not in path:
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 21, 27)"  # the dark theme's --bg
    assert seen.problems() == []


def test_theme_switch_is_kept(site: Site, new_page: Callable[..., Any], artifacts: Path) -> None:
    page = new_page(scheme="light")
    page.goto(f"{site.url}/")
    page.click("#theme-toggle")  # auto -> dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 21, 27)"


@pytest.mark.parametrize(
    ("name", "size"), [("console", (1100, 900)), ("console-phone", (360, 740))]
)
def test_console(
    site: Site, new_page: Callable[..., Any], artifacts: Path, name: str, size: tuple[int, int]
) -> None:
    page = new_page(*size)
    seen = watch(page)
    page.goto(f"{site.url}/console")
    page.wait_for_selector("#gateways tbody tr[data-id='cabin']")
    page.wait_for_selector("#detail .cards")
    page.click("#gateways tbody tr[data-id='cabin']")
    page.wait_for_function(
        "() => document.querySelector('#detail h2').textContent.includes('Cabin')"
    )
    cards = page.text_content("#detail .cards") or ""
    assert "Batteries" in cards and "kWh" in cards and "Alerts" in cards
    assert "Uptime" in (page.text_content("#server-stats") or "")
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    assert page.evaluate(OVERFLOWING) == []
    # The local-mode cabin (firmware >= 23.44) never has temperatures: the API answers 200
    # with X-Data-Unavailable (not 503 for ever) and the card says why.
    assert "Not available: local mode on firmware 23.44 or later has no vitals" in cards
    assert seen.problems() == []


def test_example_page_embeds_the_flow(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page()
    seen = watch(page)
    page.goto(f"{site.url}/example.html")
    frame = page.frame_locator("iframe.embed")
    frame.locator("#label-home[data-watts]").wait_for(timeout=10_000)
    page.screenshot(path=artifacts / "example.png", full_page=True)
    assert seen.problems() == []
