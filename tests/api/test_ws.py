"""WebSocket streams over fake adapters: welcome snapshot, updates, heartbeats, origin and
gateway checks (starlette TestClient), and slow clients and shutdown on a real uvicorn."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pypowerwall_server.settings import ServerConfig, Settings

from .conftest import FakeAdapter, contract_calls, gateway
from .ws_app import streams_app

AGGREGATES = "poll('/api/meters/aggregates')"


def build(adapters: dict[str, FakeAdapter], origins: tuple[str, ...] = ()) -> TestClient:
    settings = Settings(
        server=ServerConfig(bind_address="127.0.0.1", cors_origins=origins),
        gateways=tuple(gateway(gid) for gid in adapters),
    )
    return TestClient(streams_app(settings, lambda cfg: adapters[cfg.id]))


@pytest.fixture
def adapters() -> dict[str, FakeAdapter]:
    return {
        "home": FakeAdapter(contract_calls("tedapi"), tedapi=True),
        "cabin": FakeAdapter(contract_calls("local")),
    }


@pytest.fixture
def client(adapters: dict[str, FakeAdapter]) -> Iterator[TestClient]:
    with build(adapters) as test_client:
        yield test_client


def receive_until(ws: Any, predicate: Any, limit: int = 200) -> dict[str, Any]:
    for _ in range(limit):
        message: dict[str, Any] = ws.receive_json()
        if predicate(message):
            return message
    raise AssertionError("no matching message")


def has_data(message: dict[str, Any]) -> bool:
    return message["type"] != "heartbeat" and message["data"]["power"] is not None


def test_aggregate_stream_starts_with_the_current_state(client: TestClient) -> None:
    with client.websocket_connect("/ws/aggregate") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot"
        assert first["v"] == 1 and first["stream"] == "aggregate" and first["gateway"] is None
        assert [g["id"] for g in first["data"]["gateways"]] == ["home", "cabin"]
    # once the pollers have data, a new client's first message carries it
    with client.websocket_connect("/ws/aggregate") as ws:
        receive_until(ws, has_data)
    with client.websocket_connect("/ws/aggregate") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["data"]["power"] is not None
        assert first["snapshot_ts"] == pytest.approx(time.time(), abs=5)


def test_update_follows_a_state_change(client: TestClient, adapters: dict[str, Any]) -> None:
    with client.websocket_connect("/ws/aggregate") as ws:
        receive_until(ws, has_data)
        aggregates = dict(adapters["cabin"].calls[AGGREGATES])
        aggregates["solar"] = {**aggregates["solar"], "instant_power": 1234.0}
        adapters["cabin"].calls = {**adapters["cabin"].calls, AGGREGATES: aggregates}
        update = receive_until(
            ws,
            lambda m: (
                m["type"] == "update"
                and m["data"]["gateways"][1]["power"] is not None
                and m["data"]["gateways"][1]["power"]["solar"] == 1234.0
            ),
        )
        assert update["seq"] >= 1
        assert update["data"]["power"]["solar"] == pytest.approx(
            1234.0 + update["data"]["gateways"][0]["power"]["solar"]
        )


def test_gateway_stream_carries_full_detail(client: TestClient) -> None:
    with client.websocket_connect("/ws/gateway/home") as ws:
        message = receive_until(ws, lambda m: m["type"] != "heartbeat" and m["data"]["vitals"])
        assert message["stream"] == "gateway" and message["gateway"] == "home"
        assert message["data"]["gateway"]["id"] == "home"
        assert message["data"]["gateway"]["data"]["power_w"]["solar"] == 6500.0
        assert message["data"]["vitals"] == client.get("/api/gateways/home/vitals").json()


def test_quiet_stream_sends_heartbeats(client: TestClient, adapters: dict[str, Any]) -> None:
    adapters["home"].hang.set()  # no more polls: nothing changes (until it turns stale)
    try:
        with client.websocket_connect("/ws/gateway/home") as ws:
            heartbeat = receive_until(ws, lambda m: m["type"] == "heartbeat")
            assert "data" not in heartbeat and heartbeat["gateway"] == "home"
    finally:
        adapters["home"].hang.clear()


def test_unknown_gateway_closes_with_4404(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/gateway/nope") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4404 and "nope" in closed.value.reason


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://evil.example", False),
        ("http://testserver", True),  # same origin as the Host header
        ("https://dash.example", True),  # configured CORS origin
        ("null", False),
    ],
)
def test_origin_is_checked(adapters: dict[str, Any], origin: str, allowed: bool) -> None:
    with build(adapters, origins=("https://dash.example",)) as test_client:
        if allowed:
            with test_client.websocket_connect("/ws/aggregate", headers={"origin": origin}) as ws:
                assert ws.receive_json()["type"] == "snapshot"
        else:
            with pytest.raises(WebSocketDisconnect) as refused:  # noqa: SIM117
                with test_client.websocket_connect("/ws/aggregate", headers={"origin": origin}):
                    pass
            assert refused.value.code == 4403


def test_many_clients_get_the_same_frames(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/aggregate") as a,
        client.websocket_connect("/ws/aggregate") as b,
    ):
        a.receive_json()
        b.receive_json()
        # b joined second, so every update b gets was broadcast to a as well
        first_b = receive_until(b, lambda m: m["type"] == "update")
        same_a = receive_until(a, lambda m: m["type"] == "update" and m["seq"] == first_b["seq"])
        assert same_a == first_b


def test_client_disconnect_logs_at_debug_only(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="pypowerwall_server")
    with client.websocket_connect("/ws/aggregate") as ws:
        ws.receive_json()
    deadline = time.monotonic() + 5
    while not any("left aggregate" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "no debug record of the disconnect"
        time.sleep(0.02)
    left = [r for r in caplog.records if "left aggregate" in r.getMessage()]
    assert left[0].levelname == "DEBUG" and "by the client" in left[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= 30]
