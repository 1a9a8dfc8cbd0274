"""The benchmark's WebSocket load client (benchmarks/ws_load.py) against a real uvicorn:
its own frame parser sees every update, in order, for small and 200 KB messages."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from pypowerwall_server.settings import ServerConfig, Settings

from .conftest import FakeAdapter, contract_calls, gateway
from .uvicorn_server import Server
from .ws_app import streams_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.ws_load import parse_args, run_many
from tests.waiting import wait_until

pytestmark = pytest.mark.integration  # starts a server or the simulator


@pytest.mark.parametrize(
    ("path", "vitals"),
    [("/ws/aggregate", None), ("/ws/gateway/home", {"filler": "x" * 200_000})],
)
def test_lean_client_receives_every_update(path: str, vitals: object) -> None:
    calls = contract_calls("tedapi")
    if vitals is not None:
        calls["vitals()"] = vitals
    adapter = FakeAdapter(calls, tedapi=True)
    settings = Settings(
        server=ServerConfig(bind_address="127.0.0.1"),
        gateways=(gateway("home", interval=0.05),),
    )
    app = streams_app(settings, lambda cfg: adapter)
    with Server(app, use_uvloop=True) as server:
        wait_until(lambda: app.services.live.streams is not None)
        args = parse_args(["--url", f"ws://127.0.0.1:{server.port}{path}", "--duration", "1.0"])
        result = asyncio.run(run_many(args, 3, first=False))
    assert result["connected"] == 3 and not result["errors"]
    assert all(n >= 5 for n in result["updates"]), result["updates"]
    assert result["gaps"] == [0, 0, 0]
    assert min(result["bytes"]) > 0 and len(result["data"]) > 0
