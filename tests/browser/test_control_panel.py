"""The console's control panel in a real Chromium, against a server that writes the
simulator over v1r (real pypowerwall): hidden while control is off; the token asked once and
kept for the session; a reserve set with the slider lands in the simulated site and the
panel shows the gateway's read-back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pypowerwall_server.app import create_app
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import running_simulator
from tests.api.uvicorn_server import Server
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key
from tests.waiting import wait_until

from .conftest import SITES, Site, watch

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SECRET = "browser-c0ntrol-token"


def start(tmp_path: Path, **server: Any) -> Iterator[Site]:
    key_file = write_private_key(rsa_key("owner"), tmp_path / "key.pem")
    with running_simulator(SITES) as sim:
        for gateway in sim.gateways:
            app = sim.gateway(gateway.id).app
            assert isinstance(app, SimulatedGateway)
            app.register_v1r_key(public_pem(rsa_key("owner")))
        gateways = tuple(
            GatewayConfig(
                id=gateway.id,
                host=gateway.host,
                password=SecretStr(gateway.config.customer_password),
                rsa_key_path=str(key_file),
                poll_interval=2.0,
            )
            for gateway in sim.gateways
        )
        settings = Settings(
            server=ServerConfig(bind_address="127.0.0.1", **server), gateways=gateways
        )
        app = create_app(settings)
        with Server(app, use_uvloop=True, http=hot_protocol(app)) as uvicorn:
            site = Site(f"http://127.0.0.1:{uvicorn.port}", sim, uvicorn)
            wait_until(lambda: site.get("/api/gateways/home/control")["reserve"] is not None, 60)
            yield site


@pytest.fixture(scope="module")
def controlled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from start(tmp_path_factory.mktemp("on"), control_secret=SecretStr(SECRET))


def settings_of(site: Site, gateway_id: str) -> dict[str, Any]:
    result: dict[str, Any] = site.admin("GET", f"/gateways/{gateway_id}/settings")["settings"]
    return result


def test_the_panel_writes_a_reserve_and_shows_the_read_back(
    controlled: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page()
    seen = watch(page)
    page.goto(f"{controlled.url}/console?gw=home")
    page.wait_for_selector("#control-reserve", timeout=10_000)
    assert page.text_content("#now-reserve") == "20 %"
    page.fill("#control-reserve", "65")  # a range input takes fill()
    page.click("#control-reserve-set")
    assert "Enter the control token" in (page.text_content("#control-status") or "")
    page.fill("#control-token", SECRET)
    page.click("#control-token-use")
    assert page.is_hidden("#control-token")
    page.click("#control-reserve-set")
    page.wait_for_function(
        "() => document.getElementById('now-reserve').textContent === '65 %'", timeout=15_000
    )
    assert (page.text_content("#control-status") or "").startswith("reserve applied")
    assert settings_of(controlled, "home")["backup_reserve_percent"] == pytest.approx(65, abs=0.5)
    assert settings_of(controlled, "cabin")["backup_reserve_percent"] == pytest.approx(20, abs=0.5)

    page.select_option("#control-mode", "backup")
    page.click("#control-mode-set")
    page.wait_for_function(
        "() => document.getElementById('now-mode').textContent === 'Backup'", timeout=15_000
    )
    assert settings_of(controlled, "home")["operating_mode"] == "backup"
    page.check("#control-grid-charging")
    page.wait_for_function(
        "() => document.getElementById('now-grid_charging').textContent === 'on'", timeout=15_000
    )
    assert settings_of(controlled, "home")["grid_charging"] is True
    page.wait_for_function(  # the detail card is redrawn after a write
        "() => document.getElementById('detail').textContent.includes('Reserve: 65 %')",
        timeout=10_000,
    )
    page.screenshot(path=artifacts / "console-control.png", full_page=True)

    page.reload()  # the token stays for the session: no question again
    page.wait_for_selector("#control-reserve", timeout=10_000)
    assert page.is_hidden("#control-token")
    page.select_option("#control-export", "never")
    page.click("#control-export-set")
    page.wait_for_function(
        "() => document.getElementById('now-grid_export').textContent === 'No export'",
        timeout=15_000,
    )
    assert settings_of(controlled, "home")["export_rule"] == "never"
    assert seen.problems() == [] and seen.dialogs == []
    token_kept = page.evaluate("() => sessionStorage.getItem('pps-control-token')")
    assert token_kept == SECRET
    assert page.evaluate("() => localStorage.getItem('pps-control-token')") is None


def test_a_wrong_token_is_forgotten_and_asked_again(
    controlled: Site, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    page.goto(f"{controlled.url}/console?gw=cabin")
    page.wait_for_selector("#control-reserve", timeout=10_000)
    page.fill("#control-token", "not-the-token")
    page.click("#control-token-use")
    page.click("#control-hold")
    page.wait_for_function(
        "() => document.getElementById('control-status').dataset.state === 'bad'", timeout=10_000
    )
    assert "refused" in (page.text_content("#control-status") or "")
    assert page.is_visible("#control-token")
    assert page.evaluate("() => sessionStorage.getItem('pps-control-token')") is None


def test_the_panel_is_hidden_while_control_is_off(
    tmp_path: Path, new_page: Callable[..., Any]
) -> None:
    for site in start(tmp_path):
        page = new_page()
        seen = watch(page)
        page.goto(f"{site.url}/console?gw=home")
        page.wait_for_selector("#gateways tbody tr", timeout=10_000)
        page.wait_for_timeout(500)
        assert page.is_hidden("#control")
        assert page.query_selector("#control-reserve") is None
        assert httpx.get(f"{site.url}/api/control", timeout=5).json()["enabled"] is False
        assert seen.problems() == []


def test_a_slow_gateway_is_followed_until_it_shows_the_write(
    controlled: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    """The gateway takes 6 s to apply a write: the panel says "waiting" with the controls
    disabled, then "applied" with the value the gateway shows, never a stale "now"."""
    page = new_page(1280, 900)
    page.add_init_script(f"sessionStorage.setItem('pps-control-token', {SECRET!r})")
    page.goto(f"{controlled.url}/console?gw=cabin")
    page.wait_for_selector("#control-reserve", timeout=10_000)
    fault = controlled.admin("POST", "/gateways/cabin/faults", {"kind": "slow_apply", "delay_s": 6})
    try:
        page.fill("#control-reserve", "42")
        page.click("#control-reserve-set")
        page.wait_for_function(
            "() => document.getElementById('control-status').textContent.includes('waiting')",
            timeout=15_000,
        )
        assert page.is_disabled("#control-reserve-set")  # no second write while one is open
        assert page.text_content("#now-reserve") != "42 %"
        page.screenshot(path=artifacts / "control-waiting-1280-light.png", full_page=True)
        page.wait_for_function(
            "() => document.getElementById('control-status').textContent"
            ".startsWith('reserve applied')",
            timeout=60_000,
        )
        assert page.text_content("#now-reserve") == "42 %"
        assert page.is_enabled("#control-reserve-set")
        assert settings_of(controlled, "cabin")["backup_reserve_percent"] == pytest.approx(
            42, abs=0.5
        )
    finally:
        controlled.admin("DELETE", f"/gateways/cabin/faults/{fault['fault']['id']}")


def test_off_grid_asks_first_and_an_offline_gateway_cannot_be_written(
    controlled: Site, new_page: Callable[..., Any], artifacts: Path
) -> None:
    page = new_page(390, 844, scheme="dark")
    seen = watch(page)
    page.add_init_script(f"sessionStorage.setItem('pps-control-token', {SECRET!r})")
    page.goto(f"{controlled.url}/console?gw=cabin")
    page.wait_for_selector("#control-off-grid", timeout=10_000)
    page.click("#control-off-grid")  # watch() dismisses the question: nothing is written
    assert seen.dialogs and "Disconnect" in seen.dialogs[0]
    assert controlled.get("/api/gateways/cabin/control")["grid_connected"] is not False
    controlled.admin("POST", "/gateways/cabin/faults", {"kind": "hang"})
    try:
        page.wait_for_function(
            "() => document.getElementById('control-reserve-set').disabled", timeout=20_000
        )
        assert "disabled" in (page.text_content("#control-status") or "")
        page.screenshot(path=artifacts / "control-offline-390-dark.png", full_page=True)
    finally:
        controlled.admin("DELETE", "/gateways/cabin/faults")
    page.wait_for_function(
        "() => !document.getElementById('control-reserve-set').disabled", timeout=30_000
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_panel_is_labelled_and_asks_the_token_first(
    controlled: Site, new_page: Callable[..., Any], scheme: str
) -> None:
    from .test_accessibility import violations

    page = new_page(1280, 900, scheme=scheme)
    page.goto(f"{controlled.url}/console?gw=home")
    page.wait_for_selector("#control-reserve", timeout=10_000)
    page.wait_for_selector("#detail .cards")
    order = page.evaluate(
        "[...document.querySelectorAll('#control input, #control select, #control button')]"
        ".map((n) => n.id)"
    )
    assert order[0] == "control-token"  # before the controls it unlocks
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('#control input, #control select')]"
        ".filter((n) => !n.labels || n.labels.length === 0).map((n) => n.id)"
    )
    assert unlabelled == []
    assert violations(page) == []
