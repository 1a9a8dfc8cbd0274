"""The console's event list in a real Chromium: the events so far, a new one live over
/ws/events, and notification delivery shown by URL number and scheme, never the URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.integration.webhook_receiver import WebhookReceiver

from .conftest import Site, SiteOptions, start_site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TOKEN = "tok-n0tify-secret"


@pytest.fixture(scope="module")
def notifying() -> Iterator[tuple[Site, WebhookReceiver]]:
    with WebhookReceiver() as receiver:
        server = {
            "notify_urls": SecretStr(receiver.url(f"/hook/{TOKEN}")),
            "notify_hold_down": 0.5,
        }
        for site in start_site(SiteOptions(server=server)):
            yield site, receiver


def test_event_list_shows_events_live_without_the_notify_url(
    notifying: tuple[Site, WebhookReceiver],
    new_page: Callable[..., Any],
    artifacts: Path,
) -> None:
    site, receiver = notifying
    page = new_page(1000, 1100)
    seen = watch(page)
    page.goto(f"{site.url}/console")
    page.wait_for_selector("#events-list li", timeout=10_000)
    site.admin("POST", "/gateways/cabin/faults", {"kind": "grid_outage"})
    try:
        item = page.wait_for_selector("#events-list li[data-kind='grid_outage']", timeout=10_000)
        assert item is not None
        assert "Grid outage at Cabin (local): Powerwall at" in item.inner_text()
        page.locator("#events-delivery", has_text="1 sent").wait_for(timeout=15_000)
        page.locator("#events").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "console-events.png"), full_page=True)
    finally:
        site.admin("DELETE", "/gateways/cabin/faults")
    delivery = page.inner_text("#events-delivery")
    assert delivery.startswith("Notifications: #1 (json): ok")
    assert TOKEN not in page.content()
    assert receiver.of_kind("grid_outage")
    assert seen.problems() == []
