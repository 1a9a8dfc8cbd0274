"""PW_READ_TOKEN on a real uvicorn with the options run_server gives it (the hot protocol
included): every route but /health and PW_READ_OPEN needs the token, as Bearer or as the
login page's cookie; wrong tokens are bounded like control's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from pypowerwall_server.http.admission import NO_TOKEN
from pypowerwall_server.http.hot_asgi import HotApp

from .served import app_with, serving

pytestmark = pytest.mark.integration  # starts a server

TOKEN = "read-token-for-tests-0123"
CONTROL = "control-secret-for-tests-0123"
PROTECTED = (
    "/aggregates",  # hot legacy
    "/api/meters/aggregates",
    "/soe",
    "/csv?headers",
    "/vitals",
    "/api/aggregate/power",  # hot, multi-gateway
    "/api/gateways/home/status",
    "/gw/home/aggregates",
    "/api/gateways",  # FastAPI only
    "/api/gateways/home",
    "/metrics",
    "/stats",
    "/api/status",
    "/control/reserve",
    "/api/control/audit",
    "/",
    "/docs",
    "/openapi.json",
)


def _read_token(**extra: Any) -> dict[str, Any]:
    return {"read_token": SecretStr(TOKEN), **extra}


def test_every_route_but_health_needs_the_read_token() -> None:
    with serving(**_read_token(control_secret=SecretStr(CONTROL))) as client:
        for path in PROTECTED:
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert refused.json() == {
                "detail": "a read token is required: send Authorization: Bearer <token>"
            }
            assert refused.headers["www-authenticate"] == "Bearer"
            assert client.head(path).status_code == 401, path
        assert client.get("/health").status_code == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        for path in PROTECTED:
            if path != "/api/control/audit":  # the control secret's own route
                assert client.get(path, headers=bearer).status_code == 200, path
        assert "pypowerwall_" in client.get("/metrics", headers=bearer).text


def test_the_control_secret_admits_reads_and_writes_need_no_read_token() -> None:
    """evcc sends one Authorization header: the control secret. The legacy proxy's form
    clients send the control token in the body and no header at all."""
    with serving(**_read_token(control_secret=SecretStr(CONTROL))) as client:
        control = {"Authorization": f"Bearer {CONTROL}"}
        assert client.get("/aggregates", headers=control).status_code == 200
        assert client.get("/api/control/audit", headers=control).status_code == 200
        wrong = client.post("/control/reserve", data={"value": "30", "token": "wrong"})
        assert wrong.status_code == 401  # control's answer, not the read gate's
        assert wrong.json() != {"detail": "invalid read token"}


def test_read_open_paths_need_no_token_and_others_still_do() -> None:
    with serving(**_read_token(read_open=("/aggregates", "/soe"))) as client:
        assert client.get("/aggregates").status_code == 200
        assert client.get("/soe").status_code == 200
        assert client.get("/vitals").status_code == 401
        assert client.get("/api/meters/aggregates").status_code == 401
        assert client.get("/gw/home/aggregates").status_code == 401


def test_websockets_need_the_read_token() -> None:
    with serving(**_read_token()) as client:
        url = f"ws://127.0.0.1:{client.base_url.port}/ws/aggregate"
        with connect(url, open_timeout=10) as refused, pytest.raises(ConnectionClosed) as closed:
            refused.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert closed.value.rcvd.reason == NO_TOKEN
        with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
            assert ws.recv(timeout=10)
        cookie = _login(client)
        with connect(url, additional_headers={"Cookie": f"pw_read={cookie}"}) as ws:
            assert ws.recv(timeout=10)


def _login(client: httpx.Client) -> str:
    answer = client.post("/login?next=/vitals", data={"token": TOKEN})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/vitals"
    client.cookies.clear()
    return answer.cookies["pw_read"]


def test_login_sets_a_strict_http_only_cookie_that_admits_reads() -> None:
    with serving(**_read_token()) as client:
        page = client.get("/aggregates", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/aggregates"
        form = client.get("/login?next=/aggregates")
        assert form.status_code == 200 and "name=token" in form.text
        answer = client.post("/login?next=//evil.example", data={"token": TOKEN})
        assert answer.headers["location"] == "/"  # never another site
        set_cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        assert "Secure" not in set_cookie  # plain HTTP here; HTTPS adds it
        cookie = answer.cookies["pw_read"]
        assert TOKEN not in cookie
        client.cookies.clear()
        assert client.get("/vitals", headers={"Cookie": f"pw_read={cookie}"}).status_code == 200
        wrong = client.get("/vitals", headers={"Cookie": "pw_read=" + "0" * 64})
        assert wrong.status_code == 401
        assert wrong.json() == {"detail": "invalid read token"}
        stale = {"Cookie": "pw_read=" + "0" * 64, "Accept": "text/html"}  # the token changed
        assert client.get("/gw/home/", headers=stale).headers["location"] == (
            "/login?next=/gw/home/"
        )


def test_a_login_form_from_another_site_is_refused_before_it_counts() -> None:
    with serving(**_read_token()) as client:
        for _ in range(20):
            answer = client.post(
                "/login", data={"token": "guess"}, headers={"Sec-Fetch-Site": "cross-site"}
            )
            assert answer.status_code == 403
        assert client.post("/login", data={"token": "guess"}).status_code == 401  # not locked


def test_wrong_read_tokens_are_bounded_and_the_right_one_still_reads() -> None:
    with serving(**_read_token()) as client:
        codes = [
            client.get("/aggregates", headers={"Authorization": f"Bearer guess{n}"}).status_code
            for n in range(12)
        ]
        assert codes == [401] * 10 + [429] * 2
        locked = client.get("/vitals", headers={"Cookie": "pw_read=" + "f" * 64})
        assert locked.status_code == 429
        assert 1 <= int(locked.headers["retry-after"]) <= 300
        assert client.post("/login", data={"token": "guess"}).status_code == 429
        owner = client.get("/aggregates", headers={"Authorization": f"Bearer {TOKEN}"})
        assert owner.status_code == 200


def _app(**server: Any) -> HotApp:
    return app_with(**server)[0]


def test_the_hot_protocol_answers_only_what_admission_cannot_refuse() -> None:
    """Off: the very same table (nothing to pay). Read token: only the open paths. Rate
    limit: none, every request is counted by the ASGI app first."""
    plain = _app()
    assert plain.admission is None and plain.protocol_routes is plain.routes
    guarded = _app(**_read_token(read_open=("/aggregates", "/soe")))
    assert set(guarded.protocol_routes) == {"/aggregates", "/soe"}
    assert _app(rate_limit=5.0).protocol_routes == {}


def test_without_a_read_token_there_is_no_login_page() -> None:
    with serving() as client:
        assert client.get("/aggregates").status_code == 200
        assert client.get("/login").status_code == 404
