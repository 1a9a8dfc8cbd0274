"""Browser tests: Playwright for Python driving Debian's chromium (never a downloaded browser),
against a real uvicorn serving the app on the simulator (real pypowerwall over HTTPS).

Screenshots go to $PPS_ARTIFACTS (.ci/run sets it to a folder it keeps and prints), or to
a temporary folder named in the test output.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pypowerwall_server.app import create_app, default_adapter_factory
from pypowerwall_server.demo import DEMO_SITES
from pypowerwall_server.gateway.protocol import GatewayAdapter
from pypowerwall_server.http.hot_protocol import hot_protocol
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.api.uvicorn_server import Server
from tests.conftest import require_tool
from tests.integration.conftest import NOON_LOS_ANGELES, frozen_gateway
from tests.waiting import wait_until

INTERVAL = 0.5  # poll interval of the test gateways, s
STALE_AFTER_S = 3 * INTERVAL  # the default stale limit: 3 poll intervals

# The demo's two sites (`home`: TEDAPI, `cabin`: local API), at noon with the clock standing
# still, so the page and the API show the same numbers.
SITES = tuple(replace(site, sim_start=NOON_LOS_ANGELES) for site in DEMO_SITES)


@dataclass
class Site:
    """A running server on the simulator: its URL and the simulator's admin API."""

    url: str
    sim: RunningSimulator
    server: Server

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        assert self.sim.admin_url is not None
        response = httpx.request(
            method,
            f"{self.sim.admin_url}{path}",
            json=body,
            headers={"authorization": f"Bearer {self.sim.admin_token}"},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=5).json()


def site_gateways(
    sim: RunningSimulator, names: dict[str, str] | None = None
) -> tuple[GatewayConfig, ...]:
    names = names or {}
    home, cabin = sim.gateways
    return (
        GatewayConfig(
            id="home",
            name=names.get("home", "Home (TEDAPI)"),
            host=home.host,
            gw_pwd=SecretStr(home.config.gw_pwd),
            poll_interval=INTERVAL,
            timeout=1.0,
        ),
        GatewayConfig(
            id="cabin",
            name=names.get("cabin", "Cabin (local)"),
            host=cabin.host,
            password=SecretStr(cabin.config.customer_password),
            email=cabin.config.customer_email,
            poll_interval=INTERVAL,
            timeout=1.0,
        ),
    )


@dataclass
class SiteOptions:
    names: dict[str, str] | None = None
    adapter: Callable[[GatewayConfig], GatewayAdapter] = default_adapter_factory
    server: dict[str, Any] | None = None
    faults: dict[str, Fault] | None = None  # set before the server's first poll
    gateways: Callable[[RunningSimulator, dict[str, str] | None], tuple[GatewayConfig, ...]] = (
        site_gateways
    )
    ready: str = "healthy"  # the /health status to wait for before the tests


def start_site(options: SiteOptions) -> Iterator[Site]:
    with running_simulator(SITES, app_factory=frozen_gateway) as sim:
        for gateway_id, fault in (options.faults or {}).items():
            sim.set_fault(gateway_id, fault)
        settings = Settings(
            # history off unless a test asks for it: the pages' history views are tested on
            # fixtures (history_fixtures.py), and once end to end (test_energy_live.py)
            server=ServerConfig(
                bind_address="127.0.0.1", **{"history": False, **(options.server or {})}
            ),
            gateways=options.gateways(sim, options.names),
        )
        app = create_app(settings, adapter_factory=options.adapter)
        server = Server(app, use_uvloop=True, http=hot_protocol(app), ws_per_message_deflate=False)
        with server:
            site = Site(f"http://127.0.0.1:{server.port}", sim, server)
            wait_until(lambda: httpx.get(f"{site.url}/health", timeout=5).status_code == 200, 60)
            wait_until(lambda: site.get("/health")["status"] == options.ready, 60)
            yield site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    yield from start_site(SiteOptions())


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return require_tool("chromium", "apt-get install chromium (Debian's package)")


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    # Per module, not per session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, which would break the asyncio tests that run after these.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = os.environ.get("PPS_ARTIFACTS") or os.path.join(tempfile.gettempdir(), "pps-artifacts")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {path}")
    return path


@dataclass
class PageWatch:
    """What went wrong on a page: console errors, script errors, failed requests, dialogs."""

    console_errors: list[str]
    page_errors: list[str]
    failed: list[str]
    bad_status: list[str]
    dialogs: list[str]

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed, *self.bad_status]


def watch(page: Any) -> PageWatch:
    seen = PageWatch([], [], [], [], [])
    page.on("console", lambda m: m.type == "error" and seen.console_errors.append(m.text))
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: seen.failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and seen.bad_status.append(f"{r.status} {r.url}"))

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(width: int = 1000, height: int = 900, scheme: str = "light") -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
