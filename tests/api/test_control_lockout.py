"""The lockout can no longer be turned against the owner: pages of other origins never
reach control (form protocol included), the right token always succeeds and is audited as
what it did, bad tokens on the audit route are handled the same, and refusals neither flood
the log nor push the real writes out of the audit."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import ServerConfig, Settings

from .conftest import FakeAdapter, contract_calls, gateway

SECRET = "lockout-test-secret-0123"
BEARER = {"Authorization": f"Bearer {SECRET}"}
EVIL = "http://evil.example"


@pytest.fixture
def client() -> Iterator[TestClient]:
    server = ServerConfig(bind_address="127.0.0.1", control_secret=SecretStr(SECRET))
    settings = Settings(server=server, gateways=(gateway("home", 30.0),))
    adapter = FakeAdapter(contract_calls("tedapi"), tedapi=True)
    with TestClient(create_app(settings, adapter_factory=lambda _: adapter)) as test_client:
        yield test_client


def _audit(client: TestClient) -> list[dict[str, str]]:
    answer = client.get("/api/control/audit?limit=200", headers=BEARER)
    assert answer.status_code == 200
    entries: list[dict[str, str]] = answer.json()["entries"]
    return entries


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port or subdomain of the same site
        {"Origin": "null"},  # a sandboxed frame or a data: page
    ],
)
def test_lockout_by_a_cross_origin_page_is_refused_before_counting(
    client: TestClient, headers: dict[str, str]
) -> None:
    """The issue's first reproduction: 10 form POSTs from another origin, then the owner."""
    for n in range(12):
        answer = client.post(
            "/control/reserve", data={"value": "1", "token": f"x{n}"}, headers=headers
        )
        assert answer.status_code == 403
        assert "cross-origin" in answer.json()["error"]
    owner = client.post("/control/reserve", json={"value": 20}, headers=BEARER)
    assert owner.status_code == 409  # reached the write: this gateway is read-only


@pytest.mark.parametrize(
    "path",
    ["/gw/home/control/mode", "/api/gateways/home/control/reserve", "/api/gateways/home/control"],
)
def test_every_control_write_refuses_cross_origin_requests(client: TestClient, path: str) -> None:
    answer = client.post(path, json={"value": 20}, headers={**BEARER, "Origin": EVIL})
    assert answer.status_code == 403


def test_cross_origin_audit_reads_are_refused(client: TestClient) -> None:
    answer = client.get("/api/control/audit", headers={**BEARER, "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, evcc, the legacy proxy's scripts: no Origin at all
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},  # our own pages
        {"Origin": "http://testserver"},  # an old browser, same origin
    ],
)
def test_legacy_and_same_origin_clients_still_write(
    client: TestClient, headers: dict[str, str]
) -> None:
    form = client.post("/control/reserve", data={"value": "20", "token": SECRET}, headers=headers)
    assert form.status_code == 409
    bearer = client.post("/control/reserve", json={"value": 20}, headers={**BEARER, **headers})
    assert bearer.status_code == 409


def test_lockout_turned_against_the_owner_the_right_token_still_writes(client: TestClient) -> None:
    """A neighbour at the owner's address (same proxy, same NAT) sends 30 wrong tokens: they
    get 401 then 429, the owner's right token still reaches the write and is audited as such."""
    codes = [
        client.post("/control/reserve", data={"value": "1", "token": f"x{n}"}).status_code
        for n in range(30)
    ]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    owner = client.post("/control/reserve", json={"value": 20}, headers=BEARER)
    assert owner.status_code == 409
    (latest, *_) = _audit(client)
    assert latest["result"] == "refused: no write transport" and latest["new"] == "20"


def test_bad_tokens_on_the_audit_route_are_bounded_the_same(client: TestClient) -> None:
    wrong = {"Authorization": "Bearer wrong-guess"}
    codes = [client.get("/api/control/audit", headers=wrong).status_code for _ in range(15)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    assert client.get("/api/control/audit", headers=BEARER).status_code == 200
    refusals = [e for e in _audit(client) if e["what"] == "audit"]
    assert {e["result"] for e in refusals} == {"refused: invalid token", "refused: locked out"}


def test_refusals_never_push_applied_writes_out_of_the_audit(client: TestClient) -> None:
    client.post("/control/reserve", json={"value": 30}, headers=BEARER)
    for n in range(400):
        client.post("/control/reserve", data={"value": "1", "token": f"x{n}"})
    results = [e["result"] for e in _audit(client)]
    assert "refused: no write transport" in results  # the owner's attempt survived 400 refusals
    assert len(results) <= 250


def test_refused_attempts_are_logged_in_summary(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pypowerwall_server.control.audit"):
        for n in range(200):
            client.post("/control/reserve", data={"value": "1", "token": f"x{n}"})
    lines = [r for r in caplog.records if r.name == "pypowerwall_server.control.audit"]
    assert 1 <= len(lines) <= 2


@pytest.mark.parametrize(
    ("path", "status", "result"),
    [
        ("/control/reserve?token=x", 400, "refused: token in URL"),
        ("/control/reserve", 415, "refused: 415"),
    ],
)
def test_query_token_and_bad_body_refusals_are_audited(
    client: TestClient, path: str, status: int, result: str
) -> None:
    answer = client.post(path, content=b"value=1", headers={"Content-Type": "text/plain"})
    assert answer.status_code == status
    assert _audit(client)[0]["result"] == result
