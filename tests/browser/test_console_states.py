"""The console never lies: a server that stops answering is said at once and the page
recovers by itself; gateways are picked with the keyboard; a failing gateway shows the
API's problem and hint, one card when offline; a phone gets cards, not a clipped table;
names read as the Tesla app words them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import STALE_AFTER_S, Site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

LONG_ERROR = "TLS handshake failed: " + "certificate verify failed; " * 12
HINT = "check PW_GW_PWD: the gateway's Wi-Fi password, on the label behind its cover"


def test_server_down_is_said_at_once_and_the_console_recovers(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(1280, 900, scheme="dark")
    page.goto(f"{site.url}/console")
    page.wait_for_selector("#gateways tbody tr[data-id='home']")
    page.wait_for_selector("#detail .cards")

    def refuse(route: Any) -> None:  # what the browser sees of a stopped server
        route.abort("connectionrefused")

    page.route("**/*", refuse)
    down = time.monotonic()
    page.wait_for_function(
        "() => document.getElementById('banner').textContent.startsWith('Cannot reach the server')",
        timeout=8_000,
    )
    assert time.monotonic() - down <= 7.5  # the next refresh (5 s) says so
    states = page.eval_on_selector_all(
        "#gateways td[data-label='State']", "(c) => c.map((x) => x.textContent)"
    )
    assert states and all(s.startswith("unknown") for s in states)
    first = page.text_content("#banner")
    page.wait_for_function(
        f"() => document.getElementById('banner').textContent !== {first!r}", timeout=3_000
    )
    page.screenshot(path=artifacts / "console-server-down-1280-dark.png", full_page=True)
    page.unroute("**/*", refuse)
    page.wait_for_selector("#banner", state="hidden", timeout=6_000)
    page.wait_for_function(
        "() => document.querySelector(\"#gateways td[data-label='State']\")"
        ".textContent.startsWith('online')"
    )


def test_a_gateway_is_picked_with_the_keyboard(site: Site, new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto(f"{site.url}/console")
    page.wait_for_selector("#gateways tbody tr[data-id='cabin'] button.pick")
    page.focus("#gateways tbody tr[data-id='cabin'] button.pick")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#detail h2').textContent.includes('Cabin')"
    )
    assert (
        page.get_attribute("#gateways tbody tr[data-id='cabin'] button.pick", "aria-pressed")
        == "true"
    )
    assert "gw=cabin" in page.url


def with_problem(route: Any) -> None:
    """The real /api/gateways answer, with the cabin failing as a v1r gateway with a wrong
    password does (problem, hint and a long error)."""
    answer = route.fetch()
    body = answer.json()
    for g in body["gateways"]:
        if g["id"] == "cabin":
            g.update(
                online=False, stale=True, problem="auth_failed", hint=HINT, last_error=LONG_ERROR
            )
    route.fulfill(response=answer, body=json.dumps(body))


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1280, "dark"), (1920, "light")])
def test_why_a_gateway_fails_is_shown_and_fits(
    site: Site, new_page: Callable[..., Any], artifacts: Path, width: int, scheme: str
) -> None:
    page = new_page(width, 900, scheme=scheme)
    seen = watch(page)
    page.route("**/api/gateways", with_problem)
    page.goto(f"{site.url}/console?gw=home")
    page.wait_for_selector("#gateways tbody tr[data-id='cabin'] .hint")
    row = page.text_content("#gateways tbody tr[data-id='cabin']") or ""
    assert "auth failed" in row and "PW_GW_PWD" in row
    assert page.is_visible("#gateways tbody tr[data-id='cabin'] details summary")
    assert not page.is_visible("#gateways tbody tr[data-id='cabin'] details > span")  # folded
    error_box = page.locator("#gateways tbody tr[data-id='cabin'] td.error").bounding_box()
    assert error_box is not None and error_box["x"] + error_box["width"] <= width + 1
    assert error_box["height"] < 200  # folded, not a 500 px blank row
    grid = page.text_content("#gateways tbody tr[data-id='home'] td[data-label='Grid']")
    assert grid == "connected"
    detail = page.text_content("#detail") or ""
    assert (
        "Mode: Self-Powered" in detail
        or "Mode: Time-Based Control" in detail
        or "Mode: Backup" in detail
    )
    assert "TETHC" not in detail
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
    page.screenshot(path=artifacts / f"console-problem-{width}-{scheme}.png", full_page=True)
    assert [p for p in seen.problems() if "api/gateways/cabin" not in p] == []


def test_an_offline_gateway_shows_one_card(
    site: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(1280, 900)
    page.goto(f"{site.url}/console?gw=cabin")
    page.wait_for_selector("#detail .cards")
    site.admin("POST", "/gateways/cabin/faults", {"kind": "hang"})
    try:
        page.wait_for_function(
            "() => document.getElementById('detail').textContent.includes('Gateway not available')",
            timeout=(STALE_AFTER_S + 12) * 1000,
        )
        assert page.locator("#detail .card h3", has_text="Temperatures").count() == 0
        page.screenshot(path=artifacts / "console-offline-1280-light.png", full_page=True)
    finally:
        site.admin("DELETE", "/gateways/cabin/faults")


def test_temperatures_are_named_by_battery(site: Site, new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto(f"{site.url}/console?gw=home")
    page.wait_for_function(
        "() => document.getElementById('detail').textContent.includes('°C')", timeout=10_000
    )
    temps = page.locator("#detail .card", has_text="Temperatures").text_content() or ""
    assert "Powerwall 1" in temps and "TETHC--" not in temps
