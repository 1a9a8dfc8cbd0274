"""The full FastAPI app is built only when a request needs it; the lifespan runs without it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pypowerwall_server.app import create_app
from pypowerwall_server.http.asgi import Message
from pypowerwall_server.http.hot_asgi import HotApp, run_lifespan
from pypowerwall_server.http.lazy_api import LazyApp
from pypowerwall_server.web.layer import WebLayer
from tests.api.conftest import FakeAdapter, contract_calls, gateway, make_settings
from tests.waiting import wait_until


def lazy_of(app: HotApp) -> LazyApp:
    inner = app.app.app if isinstance(app.app, WebLayer) else app.app  # the UI layer first
    assert isinstance(inner, LazyApp)
    return inner


def test_hot_gets_and_streams_do_not_build_the_full_api() -> None:
    adapters = {"home": FakeAdapter(contract_calls("tedapi"), tedapi=True)}
    app = create_app(make_settings(gateway("home")), adapter_factory=lambda c: adapters[c.id])
    with TestClient(app) as client:
        wait_until(lambda: client.get("/aggregates").status_code == 200)
        assert client.get("/csv/v2?headers").status_code == 200
        with client.websocket_connect("/ws/aggregate") as ws:
            assert ws.receive_json()["type"] == "snapshot"
        assert not lazy_of(app).built
        listing = client.get("/api/gateways")
        assert listing.status_code == 200 and listing.json()["gateways"][0]["id"] == "home"
        assert lazy_of(app).built
        assert client.get("/help").status_code == 200


def test_unknown_websocket_path_is_refused_by_the_full_api() -> None:
    adapters = {"home": FakeAdapter(contract_calls("local"))}
    app = create_app(make_settings(gateway("home")), adapter_factory=lambda c: adapters[c.id])
    with (
        TestClient(app) as client,
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws/nothing-here"),
    ):
        pass


async def test_concurrent_requests_share_one_build() -> None:
    builds: list[int] = []

    def build() -> Any:
        time.sleep(0.05)
        builds.append(threading.get_ident())
        return object()

    lazy = LazyApp(build)
    apps = await asyncio.gather(*(lazy.ready() for _ in range(5)))
    assert len(builds) == 1
    assert all(a is apps[0] for a in apps)


async def test_a_failed_build_is_tried_again() -> None:
    attempts: list[int] = []

    def build() -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("broken route table")
        return object()

    lazy = LazyApp(build)
    with pytest.raises(RuntimeError, match="broken route table"):
        await lazy.ready()
    await asyncio.sleep(0)  # let the done-callback forget the failed build
    assert await lazy.ready() is not None
    assert len(attempts) == 2 and lazy.built


def lifespan_messages(lifespan: Callable[[], Any]) -> list[Message]:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(run_lifespan(lifespan, receive, send))
    return sent


def test_lifespan_reports_startup_and_shutdown() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        events.append("start")
        yield
        events.append("stop")

    sent = lifespan_messages(lifespan)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert events == ["start", "stop"]


def test_lifespan_reports_a_failed_startup() -> None:
    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        raise RuntimeError("no executor")
        yield

    sent = lifespan_messages(lifespan)
    assert sent == [{"type": "lifespan.startup.failed", "message": "no executor"}]
