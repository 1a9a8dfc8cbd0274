"""The console shows how each gateway is read: a gateway on its fallback
transport (the wired LAN's local API refuses, its Wi-Fi TEDAPI serves) with the badge, since
when, the failing transport and its next probe; a gateway serving degraded data with the
reason. Both themes, screenshots kept as test artefacts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pypowerwall_server.settings import GatewayConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator
from tests.integration.conftest import closed_port

from .conftest import INTERVAL, Site, SiteOptions, site_gateways, start_site, watch
from .test_layout import OVERFLOWING

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def gateways(sim: RunningSimulator, names: dict[str, str] | None) -> tuple[GatewayConfig, ...]:
    home = sim.gateways[0]
    return (
        GatewayConfig(  # the wired LAN refuses; the gateway's Wi-Fi TEDAPI serves
            id="home",
            name="Home (LAN, Wi-Fi fallback)",
            host=f"127.0.0.1:{closed_port()}",
            password=SecretStr("customer-password"),
            wifi_host=home.host,
            gw_pwd=SecretStr(home.config.gw_pwd),
            transports=("local", "tedapi"),
            failover_after=1,
            recovery_probe=600.0,
            poll_interval=INTERVAL,
            timeout=1.0,
        ),
        site_gateways(sim, names)[1],  # in the "solar only" state (a fault): degraded data
    )


@pytest.fixture(scope="module")
def fallback_site() -> Iterator[Site]:
    options = SiteOptions(
        gateways=gateways, faults={"cabin": Fault(kind="solar_only")}, ready="degraded"
    )
    yield from start_site(options)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_console_shows_the_fallback_transport_and_degraded_data(
    fallback_site: Site, new_page: Callable[..., Any], artifacts: Path, scheme: str
) -> None:
    page = new_page(1100, 1000, scheme=scheme)
    seen = watch(page)
    page.goto(f"{fallback_site.url}/console?gw=home")
    home_row = "#gateways tbody tr[data-id='home']"
    page.wait_for_selector(f"{home_row} .badge")
    page.wait_for_selector("#detail .card.transport")
    row = page.text_content(home_row) or ""
    assert "tedapi fallback" in row and "prefers local" in row
    # Online (not stale) once its poll has landed: a busy machine can let the 0.5 s gateway
    # go stale for a moment, which the page then rightly shows.
    page.wait_for_function(
        "s => (document.querySelector(s)?.textContent || '').includes('online degraded')",
        arg="#gateways tbody tr[data-id='cabin']",
        timeout=20_000,
    )
    card = page.text_content("#detail .card.transport") or ""
    assert "Active: tedapi fallback since" in card
    assert "local: failing since" in card and re.search(r"next probe .* \(in \d+ min\)", card)
    assert "tedapi: ok, serving" in card and "Failovers: 1 · recoveries: 0" in card
    page.screenshot(path=artifacts / f"console-transport-{scheme}.png", full_page=True)
    assert page.evaluate(OVERFLOWING) == []
    page.click("#gateways tbody tr[data-id='cabin']")
    page.wait_for_selector("#detail .degraded-reason")
    reason = page.text_content("#detail .degraded-reason") or ""
    assert "battery and grid meter missing on a site with a battery" in reason
    page.screenshot(path=artifacts / f"console-degraded-{scheme}.png", full_page=True)
    assert seen.problems() == []
