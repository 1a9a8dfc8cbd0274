"""/mcp driven by the MCP SDK's own client over real HTTP (uvicorn) against a server that
reads and writes the simulator over v1r with the real pypowerwall: the tools are listed
with their units and signs, read tools answer what the HTTP API answers, a control tool
writes with the token and is refused (and audited) without it, a browser page from another
origin is refused, and the endpoint does not exist unless PW_MCP is on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.api.uvicorn_server import Server
from tests.unit.simulator.sim_admin_client import ManualClock, admin, settings
from tests.unit.simulator.v1r_signing import public_pem, rsa_key, write_private_key
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SECRET = "mcp-c0ntrol-s3cret"
SITE = replace(
    SiteConfig.for_index(0),
    gateway_id="home",
    powerwalls=1,
    powerwall_kind="powerwall3",
    sim_start=1782070200.0,
    initial_soe_raw_percent=60.0,
)
READ_TOOLS = {"power_flow", "state_of_energy", "gateway_health", "alerts"}
CONTROL_TOOLS = {
    "set_backup_reserve",
    "set_operating_mode",
    "set_grid_charging",
    "set_grid_export",
    "dispatch_battery",
    "resume_battery",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    clock = ManualClock()

    def factory(config: SiteConfig) -> SimulatedGateway:
        return SimulatedGateway(config, clock=clock)

    with running_simulator([SITE], app_factory=factory) as running:
        admin(running, "POST", "/gateways/home/v1r/keys", {"public_key": _public_key()})
        yield running


def _public_key() -> str:
    return public_pem(rsa_key("mcp-owner")).decode()


def _settings(sim: RunningSimulator, folder: Any, **server: Any) -> Settings:
    gw = sim.gateway("home")
    key_file = write_private_key(rsa_key("mcp-owner"), folder / "key.pem")
    gateway = GatewayConfig(
        id="home",
        host=gw.host,
        password=SecretStr(gw.config.customer_password),
        rsa_key_path=str(key_file),
        poll_interval=60.0,
    )
    return Settings(server=ServerConfig(bind_address="127.0.0.1", **server), gateways=(gateway,))


@pytest.fixture(scope="module")
def server(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings_ = _settings(
        sim, tmp_path_factory.mktemp("mcp"), mcp=True, control_secret=SecretStr(SECRET)
    )
    with Server(create_app(settings_)) as running:
        base = f"http://127.0.0.1:{running.port}"
        wait_until(lambda: requests.get(f"{base}/api/meters/aggregates", timeout=5).ok, timeout=20)
        yield running


def _url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/mcp"


async def _session(server: Server, headers: dict[str, str], work: Any) -> Any:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(_url(server), http_client=http)) as client,
    ):
        return await work(client)


def _run(server: Server, work: Any, headers: dict[str, str] | None = None) -> Any:
    return asyncio.run(_session(server, headers or {}, work))


def _payload(result: Any) -> Any:
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def test_tools_are_listed_with_units_and_signs(server: Server) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in _run(server, work)}
    assert set(tools) >= READ_TOOLS | CONTROL_TOOLS
    assert "battery positive = discharging" in (tools["power_flow"].description or "")
    dispatch = tools["dispatch_battery"].description or ""
    assert "positive = discharge" in dispatch and "below the backup reserve" in dispatch
    assert "percent 0-100" in (tools["set_backup_reserve"].description or "")


def test_read_tools_answer_what_the_http_api_answers(server: Server) -> None:
    async def work(client: Client) -> Any:
        return [
            await client.call_tool("power_flow", {}),
            await client.call_tool("power_flow", {"gateway": "home"}),
            await client.call_tool("state_of_energy", {"gateway": "home"}),
            await client.call_tool("gateway_health", {}),
            await client.call_tool("alerts", {}),
            await client.call_tool("power_flow", {"gateway": "nowhere"}),
        ]

    site, home, soe, health, alerts, unknown = _run(server, work)
    http = requests.get(f"http://127.0.0.1:{server.port}/api/gateways/home", timeout=5).json()
    assert _payload(home)["power_w"] == http["data"]["power_w"]
    assert (
        _payload(site)["site"]
        == requests.get(f"http://127.0.0.1:{server.port}/api/aggregate/power", timeout=5).json()
    )
    assert _payload(soe)["soe"]["percent_app"] == http["data"]["soe"]["percent_app"]
    assert [g["id"] for g in _payload(health)["gateways"]] == ["home"]
    assert "home" in _payload(alerts)["alerts"]
    assert unknown.is_error and "nowhere" in unknown.content[0].text


def test_a_control_tool_writes_with_the_token_and_is_refused_without(
    server: Server, sim: RunningSimulator
) -> None:
    async def work(client: Client) -> Any:
        return await client.call_tool("set_backup_reserve", {"percent": 35})

    refused = _run(server, work)
    assert refused.is_error and "Token Invalid" in refused.content[0].text
    assert settings(sim, "home")["backup_reserve_percent"] != pytest.approx(35, abs=0.5)

    written = _run(server, work, {"Authorization": f"Bearer {SECRET}"})
    assert not written.is_error, written.content
    assert _payload(written)["parts"]["reserve"]["status"] == "applied"
    assert settings(sim, "home")["backup_reserve_percent"] == pytest.approx(35, abs=0.5)

    audit = requests.get(
        f"http://127.0.0.1:{server.port}/api/control/audit",
        headers={"Authorization": f"Bearer {SECRET}"},
        timeout=5,
    ).json()["entries"]
    assert [(e["client"], e["result"]) for e in audit[:2]] == [
        ("mcp:127.0.0.1", "applied"),
        ("mcp:127.0.0.1", "refused: invalid token"),
    ]


def test_a_client_from_another_origin_is_refused(server: Server) -> None:
    async def work(client: Client) -> Any:
        return await client.list_tools()

    with pytest.raises(Exception):  # noqa: B017  (the SDK wraps the 403 its own way)
        _run(server, work, {"Origin": "http://evil.example"})
    answer = requests.post(
        _url(server), json={}, headers={"Origin": "http://evil.example"}, timeout=5
    )
    assert answer.status_code == 403 and answer.json() == {"error": "origin not allowed"}
    same = requests.post(
        _url(server),
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Origin": f"http://127.0.0.1:{server.port}",
            "Accept": "application/json, text/event-stream",
        },
        timeout=5,
    )
    assert same.status_code != 403


def test_without_pw_mcp_there_is_no_endpoint(
    sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = create_app(_settings(sim, tmp_path_factory.mktemp("off")))
    with Server(app) as running:
        answer = requests.post(f"http://127.0.0.1:{running.port}/mcp", json={}, timeout=5)
        assert answer.status_code in (404, 405)
