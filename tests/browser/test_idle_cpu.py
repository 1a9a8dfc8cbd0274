"""The flow page's CPU while it sits open (a wall tablet's kiosk): Chromium's own
TaskDuration (main-thread work: script, style, layout, paint) over a 10 s window, as a
share of one core, beside a blank page in the same run. A measurement (`make bench-ui`), not
part of `make test`: the figure goes to BENCHMARKS.md; the bound asserted here is loose (the
machine is shared), the goal is <= 3 %."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Site

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.figures]

WINDOW_MS = 10_000


def busy_share(page: Any) -> float:
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")

    def task_duration() -> float:
        values = session.send("Performance.getMetrics")["metrics"]
        return float(next(m["value"] for m in values if m["name"] == "TaskDuration"))

    page.wait_for_timeout(2_000)  # settle after the first render
    before = task_duration()
    page.wait_for_timeout(WINDOW_MS)  # the measuring window itself, not a wait for an event
    return (task_duration() - before) / (WINDOW_MS / 1000)


def test_the_flow_page_idles_cheaply(site: Site, new_page: Callable[..., Any]) -> None:
    blank = new_page(1280, 720)
    blank.goto("about:blank")
    kiosk = new_page(1280, 720, scheme="dark")
    kiosk.goto(f"{site.url}/?kiosk=1")
    kiosk.wait_for_function("() => document.querySelector('#flow-svg g.flow:not([display=none])')")
    flow = new_page(1280, 900)
    flow.goto(f"{site.url}/")
    flow.wait_for_function("() => document.querySelector('#flow-svg g.flow:not([display=none])')")
    shares = {
        name: busy_share(page)
        for name, page in (("blank", blank), ("kiosk", kiosk), ("flow", flow))
    }
    print(
        f"\nidle CPU, share of one core over {WINDOW_MS / 1000:.0f} s: "
        + ", ".join(f"{k} {v * 100:.2f} %" for k, v in shares.items())
    )
    assert shares["kiosk"] < 0.05 and shares["flow"] < 0.05  # loose: a regression, not noise
