"""Every page at 390, 1280 and 1920 px in light and dark: clean (no script error, failed
request or sideways scroll, no text spilling out of its box), screenshots kept as test
artefacts. The README's screenshots (docs/images/*.png) are written by this run, so they
never go stale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Site, watch
from .history_fixtures import serve_history
from .test_layout import OVERFLOWING

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
HAS_FLOW = "#label-home[data-watts]:not([data-watts=''])"
PAGES = {
    "flow": ("/", HAS_FLOW),
    "kiosk": ("/?kiosk=1", HAS_FLOW),
    "console": ("/console", "#detail .cards"),
    "energy": ("/energy?view=day&date=2026-06-21", "#chart-day svg"),
}
HEIGHTS = {390: 844, 1280: 800, 1920: 1080}


def shoot(new_page: Callable[..., Any], site: Site, name: str, width: int, scheme: str) -> Any:
    page = new_page(width, HEIGHTS[width], scheme=scheme)
    seen = watch(page)
    serve_history(page)
    path, ready = PAGES[name]
    page.goto(f"{site.url}{path}")
    page.wait_for_selector(ready, timeout=15_000)
    page.wait_for_timeout(300)
    assert page.evaluate(OVERFLOWING) == []
    assert seen.problems() == []
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280, 1920])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_at_each_width_and_scheme(
    site: Site, new_page: Callable[..., Any], artifacts: Path, name: str, width: int, scheme: str
) -> None:
    page = shoot(new_page, site, name, width, scheme)
    if name == "kiosk":  # large type at every size: the drawing fills the width or height
        box = page.evaluate(
            "(() => { const r = document.getElementById('flow-svg').getBoundingClientRect();"
            " return [r.width / innerWidth, r.height / innerHeight]; })()"
        )
        assert max(box) >= 0.6, box
    if width == 390 and name in ("flow", "kiosk"):  # the charge is the largest number
        sizes = page.evaluate(
            "[...document.querySelectorAll('#flow-svg text')].filter((t) => t.textContent)"
            ".map((t) => [t.id, t.getBoundingClientRect().height])"
        )
        largest = max(sizes, key=lambda s: s[1])
        assert largest[0] == "soe-text", sizes
    small = page.evaluate(
        "[...document.querySelectorAll('button, select, input, a')].filter((n) => n.offsetParent)"
        ".map((n) => n.getBoundingClientRect()).filter((r) => r.height < 24 && r.width < 24).length"
    )
    assert small == 0  # touch targets of at least 24 px
    page.screenshot(path=artifacts / f"{name}-{width}-{scheme}.png", full_page=name != "kiosk")


def test_readme_screenshots_are_made_by_the_run(site: Site, new_page: Callable[..., Any]) -> None:
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    shots = {
        "power-flow.png": ("kiosk", 1280, "dark", False),
        "console.png": ("console", 1280, "light", True),
        "energy.png": ("energy", 1280, "light", True),
        "power-flow-phone.png": ("flow", 390, "light", False),
    }
    for file, (name, width, scheme, full) in shots.items():
        page = shoot(new_page, site, name, width, scheme)
        target = DOCS_IMAGES / file
        page.screenshot(path=target, full_page=full)
        assert target.stat().st_size > 10_000
