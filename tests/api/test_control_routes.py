"""The control routes' HTTP edges without a gateway write: CORS closed for control (open for
data), streamed bodies over the bound, unknown gateways, the audit route's token rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.api.control_cors import is_control_path
from pypowerwall_server.app import create_app
from pypowerwall_server.settings import ServerConfig, Settings
from tests.waiting import wait_until

from .conftest import FakeAdapter, contract_calls, gateway

SECRET = "route-test-secret"
ORIGIN = "https://dash.example"


@pytest.fixture
def client() -> Iterator[TestClient]:
    server = ServerConfig(
        bind_address="127.0.0.1", cors_origins=(ORIGIN,), control_secret=SecretStr(SECRET)
    )
    settings = Settings(server=server, gateways=(gateway("home", 30.0),))
    adapter = FakeAdapter(contract_calls("tedapi"), tedapi=True)
    with TestClient(create_app(settings, adapter_factory=lambda _: adapter)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "control"),
    [
        ("/control/reserve", True),
        ("/gw/home/control/mode", True),
        ("/api/gateways/home/control", True),
        ("/api/gateways/home/control/reserve", True),
        ("/api/control", True),
        ("/api/control/audit", True),
        ("/api/gateways/home", False),
        ("/aggregates", False),
        ("/gw/home/controller", False),
        ("/tedapi/controller", False),
    ],
)
def test_control_paths(path: str, control: bool) -> None:
    assert is_control_path(path) is control


def test_cors_headers_for_data_never_for_control(client: TestClient) -> None:
    data = client.get("/api/gateways", headers={"Origin": ORIGIN})
    assert data.headers.get("access-control-allow-origin") == ORIGIN
    read = client.get("/api/gateways/home/control", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in read.headers
    preflight = client.options(
        "/control/reserve",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400


def test_a_streamed_body_over_the_bound_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the bound is counted while reading
        for _ in range(10):
            yield b"x" * 1000

    answer = client.post(
        "/control/reserve",
        content=chunks(),
        headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413 and "4096" in answer.json()["error"]


def test_unknown_gateway_is_404_for_reads_and_writes(client: TestClient) -> None:
    assert client.get("/gw/nowhere/control/reserve").status_code == 404
    answer = client.post(
        "/gw/nowhere/control/reserve",
        json={"value": 20},
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert answer.status_code == 404


def test_a_read_only_gateway_names_what_to_configure(client: TestClient) -> None:
    answer = client.post(
        "/control/reserve", json={"value": 20}, headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert answer.status_code == 409
    assert "rsa_key_path" in answer.json()["error"] and "FleetAPI" in answer.json()["error"]
    entry = client.get("/api/control/audit", headers={"Authorization": f"Bearer {SECRET}"})
    (latest, *_) = entry.json()["entries"]
    assert latest["result"] == "refused: no write transport" and latest["new"] == "20"


def test_audit_refuses_a_query_token_and_a_wrong_one(client: TestClient) -> None:
    assert client.get(f"/api/control/audit?token={SECRET}").status_code == 400
    assert (
        client.get("/api/control/audit", headers={"Authorization": "Bearer x"}).status_code == 401
    )


def test_write_answers_are_never_cached(client: TestClient) -> None:
    answer = client.post("/control/reserve", json={"value": 20})
    assert answer.status_code == 401
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("library", "body"),
    [
        (19.97, b'{"reserve":20}'),
        (60.00000000000001, b'{"reserve":60}'),
        (20.05263157894737, b'{"reserve":20.1}'),
        (0, b'{"reserve":0}'),
    ],
)
def test_float_noise_in_the_legacy_reserve_read(library: float, body: bytes) -> None:
    """`{"reserve": N}` on the app scale (control-contract.md): the library's
    (raw - 5) / 0.95 without its float noise, whole values as ints."""
    settings = Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=(gateway("home"),))
    adapter = FakeAdapter({**contract_calls("tedapi"), "get_reserve()": library}, tedapi=True)
    with TestClient(create_app(settings, adapter_factory=lambda _: adapter)) as test_client:
        wait_until(lambda: test_client.get("/control/reserve").json()["reserve"] is not None)
        answer = test_client.get("/control/reserve")
        assert answer.status_code == 200 and answer.content.replace(b" ", b"") == body
