"""The console's battery dispatch panel in a real Chromium, against a server that writes the
simulator over v1r (real pypowerwall): the confirmation says a discharge can drain below
the reserve and export; declined, nothing is sent; accepted, the simulated battery
discharges and the panel shows the running dispatch; Resume now ends it. Hidden while
control is off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from .conftest import Site
from .test_control_panel import start

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SECRET = "browser-d1spatch-token"


@pytest.fixture(scope="module")
def controlled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from start(tmp_path_factory.mktemp("dispatch"), control_secret=SecretStr(SECRET))


def _battery_w(site: Site) -> float:
    return float(site.sim.gateway("home").app.state().battery.instant_power_w)


def test_dispatch_asks_first_then_runs_and_resume_ends_it(
    controlled: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page()
    questions: list[str] = []
    answers = [False, True]  # decline the first dispatch, accept the second
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        questions.append(dialog.message)
        if answers.pop(0):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{controlled.url}/console")
    page.wait_for_selector("#dispatch-start", timeout=10_000)
    page.evaluate(f"() => sessionStorage.setItem('pps-control-token', '{SECRET}')")
    page.select_option("#dispatch-gateway", "home")
    page.fill("#dispatch-power", "3000")
    page.fill("#dispatch-minutes", "5")
    page.click("#dispatch-start")
    page.wait_for_function(
        "() => document.getElementById('dispatch-status').textContent === 'Not sent.'"
    )
    [question] = questions
    assert "discharge at 3000 W for 5 min on home" in question
    assert "below the backup reserve and export to the grid" in question
    assert controlled.get("/api/gateways/home/control/dispatch")["dispatch"]["active"] is False

    page.click("#dispatch-start")
    page.wait_for_function(
        "() => document.getElementById('dispatch-now').textContent.startsWith('Dispatch running')",
        timeout=15_000,
    )
    assert "discharging at 3.0 kW" in (page.text_content("#dispatch-now") or "")
    assert _battery_w(controlled) == pytest.approx(3000, abs=150)
    page.screenshot(path=artifacts / "console-dispatch.png", full_page=True)

    page.click("#dispatch-resume")
    page.wait_for_function(
        "() => document.getElementById('dispatch-now').textContent.startsWith('No dispatch')",
        timeout=15_000,
    )
    assert controlled.get("/api/gateways/home/control/dispatch")["dispatch"]["active"] is False
    assert errors == [] and len(questions) == 2


def test_the_panel_is_hidden_while_control_is_off(
    tmp_path: Path, new_page: Callable[..., Any]
) -> None:
    for site in start(tmp_path):
        page = new_page()
        page.goto(f"{site.url}/console")
        page.wait_for_selector("#gateways tbody tr", timeout=10_000)
        assert page.is_hidden("#dispatch")
