"""Our HTTP API over fake adapters: data, 404/503 rules, health, fast path = slow path."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from starlette.testclient import TestClient

from pypowerwall_server.http.hot_routes import HOT_LEGACY_PATHS
from tests.waiting import wait_until

from .conftest import CONTRACT, SECRET_GW_PWD, FakeAdapter, contract_calls


def healthy(client: TestClient) -> bool:
    return client.get("/health").json()["status"] == "healthy"


def test_gateway_list_and_detail(app_with) -> None:
    client, _ = app_with({"home": FakeAdapter(contract_calls("tedapi"), tedapi=True)})
    wait_until(lambda: healthy(client))
    listing = client.get("/api/gateways").json()["gateways"]
    assert [g["id"] for g in listing] == ["home"]
    assert listing[0]["online"] is True and listing[0]["stale"] is False
    detail = client.get("/api/gateways/home").json()
    assert detail["data"]["power_w"] == {
        "site": -2100.0,
        "battery": -3500.0,
        "load": 900.0,
        "solar": 6500.0,
    }
    assert detail["data"]["soe"]["capacity_wh"] == 27000


def test_unknown_gateway_is_404_json(app_with) -> None:
    client, _ = app_with({"home": FakeAdapter(contract_calls("local"))})
    for path in ("/api/gateways/nope", "/api/gateways/nope/vitals", "/gw/nope/aggregates"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "nope" in response.json()["error"]


def test_no_data_yet_is_503_with_retry_after(app_with) -> None:
    adapter = FakeAdapter(contract_calls("local"))
    adapter.fail = True
    client, _ = app_with({"home": adapter})
    for path in ("/api/gateways/home", "/api/aggregate/power", "/aggregates", "/csv"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert int(response.headers["retry-after"]) >= 1
    assert client.get("/csv").headers["content-type"].startswith("text/plain")
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"


def test_stale_data_becomes_503_and_health_recovers(app_with) -> None:
    adapter = FakeAdapter(contract_calls("local"))
    client, _ = app_with({"home": adapter}, interval=0.05)
    wait_until(lambda: healthy(client))
    adapter.fail = True
    wait_until(lambda: client.get("/aggregates").status_code == 503, timeout=5)
    assert client.get("/health").status_code == 503
    assert client.get("/api/gateways").json()["gateways"][0]["last_error"] == "simulated outage"
    adapter.fail = False
    wait_until(lambda: healthy(client), timeout=10)
    assert client.get("/aggregates").status_code == 200


def test_health_degraded_when_some_gateways_are_down(app_with) -> None:
    down = FakeAdapter(contract_calls("local"))
    down.fail = True
    client, _ = app_with({"a": FakeAdapter(contract_calls("local")), "b": down})
    wait_until(lambda: client.get("/health").json()["status"] == "degraded")
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("path", [*HOT_LEGACY_PATHS, "/api/aggregate/power", "/api/aggregate/soe"])
def test_fast_path_and_fastapi_route_give_identical_bytes(app_with, path: str) -> None:
    # An hour's interval, so no new poll lands between the two requests: after the first poll
    # the next one is due at the next grid point, anywhere within one interval (with 30 s it
    # landed in the middle of this test about once in a hundred loaded runs).
    client, _ = app_with({"default": FakeAdapter(contract_calls("tedapi"), tedapi=True)}, 3600.0)
    wait_until(lambda: healthy(client))
    fast = client.get(path)
    app = client.app
    hub = app.services.hub  # type: ignore[attr-defined]
    # The same data in a new Snapshot with nothing memoized (and a publish, so the site
    # totals are recomputed too): the FastAPI route must compute its bytes on its own.
    state = hub.get("default")
    totals_before = app.services.answers.totals()  # type: ignore[attr-defined]
    recomputed = dataclasses.replace(state.snapshot, _memo={})
    hub.publish(dataclasses.replace(state, snapshot=recomputed))
    hot_routes = app.routes  # type: ignore[attr-defined]
    app.routes = {}  # type: ignore[attr-defined]  # every request goes to FastAPI
    try:
        slow = client.get(path)
    finally:
        app.routes = hot_routes  # type: ignore[attr-defined]
    if path.startswith("/api/aggregate/"):
        assert app.services.answers.totals() is not totals_before  # type: ignore[attr-defined]
    else:
        assert recomputed._memo  # the FastAPI route rendered this body itself
    assert (fast.status_code, fast.headers["content-type"], fast.content) == (
        slow.status_code,
        slow.headers["content-type"],
        slow.content,
    )


def test_no_secret_in_any_response(app_with) -> None:
    client, _ = app_with({"default": FakeAdapter(contract_calls("local"))})
    wait_until(lambda: healthy(client))
    for path in ("/stats", "/api/gateways", "/api/gateways/default", "/health", "/openapi.json"):
        assert SECRET_GW_PWD not in client.get(path).text, path


def test_openapi_documents_the_routes(app_with) -> None:
    client, _ = app_with({"default": FakeAdapter(contract_calls("local"))})
    paths = client.get("/openapi.json").json()["paths"]
    for route in (
        "/api/gateways",
        "/api/gateways/{gateway_id}",
        "/api/aggregate/power",
        "/api/aggregate/soe",
        "/api/aggregate/status",
        "/health",
        "/stats",
        "/aggregates",
        "/gw/{gateway_id}/{legacy_path}",
    ):
        assert route in paths, route
    assert client.get("/docs").status_code == 200


LEGACY_FAMILIES = [
    "/aggregates",
    "/api/meters/aggregates",
    "/csv",
    "/csv/v2?headers",
    "/soe",
    "/api/system_status/soe",
    "/vitals",
    "/strings",
    "/temps/pw",
    "/alerts/pw",
    "/freq",
    "/pod",
    "/json",
    "/battery",
    "/fans/pw",
    "/version",
    "/api/status",
    "/api/system_status",
    "/pw/level",
    "/pw/power",
    "/tedapi/config",
]


@pytest.mark.parametrize("path", LEGACY_FAMILIES)
def test_every_legacy_family_is_503_without_data_and_when_stale(app_with, path: str) -> None:
    adapter = FakeAdapter(contract_calls("tedapi"), tedapi=True)
    adapter.fail = True
    client, _ = app_with({"default": adapter}, interval=0.05)
    for prefix in ("", "/gw/default"):
        response = client.get(prefix + path)
        assert response.status_code == 503, (prefix, path, response.text)
        assert response.headers["retry-after"]
    adapter.fail = False
    wait_until(lambda: client.get(path).status_code == 200)
    adapter.fail = True  # the last good snapshot ages past 3 intervals
    wait_until(lambda: client.get(path).status_code == 503)
    body = client.get(path)
    assert "stale" in body.text
    assert "0.00" not in body.text and "null" not in body.text


def test_help_page_escapes_everything(app_with) -> None:
    calls = contract_calls("local")
    calls["site_name()"] = "<script>alert(1)</script>"
    client, _ = app_with({"default": FakeAdapter(calls)})
    wait_until(lambda: healthy(client))
    page = client.get("/help")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "http-equiv='refresh'" in page.text


def test_help_page_has_a_favicon_json_values_and_the_ui_theme(app_with) -> None:
    """No /favicon.ico 404 per visit (its icon is inline), true/false/null rather than
    Python's True/False/None, and the UI's light and dark colours."""
    client, _ = app_with({"default": FakeAdapter(contract_calls("local"))})
    wait_until(lambda: healthy(client))
    page = client.get("/help").text
    assert "<link rel='icon' href='data:image/svg+xml," in page
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "false" in cells and "null" in cells  # e.g. cloudmode, siteid
    assert not {"False", "True", "None"} & set(cells)
    assert "prefers-color-scheme:dark" in page and "var(--bg)" in page
    errors = client.get("/stats").json()["errors"]
    client.get("/help")
    assert client.get("/stats").json()["errors"] == errors  # nothing it loads fails


# --- alerts are sorted, whatever order the library gives -----------------
ALERT_ROUTES = ("/alerts", "/alerts/pw", "/pw/alerts", "/api/gateways/gw/alerts")


def test_alerts_are_sorted_on_every_route(app_with) -> None:
    calls = contract_calls("tedapi")
    vitals = json.loads(json.dumps(calls["vitals()"]))
    device = next(k for k, v in vitals.items() if isinstance(v, dict) and "alerts" in v)
    vitals[device]["alerts"] = ["PodCommissionTime", "BatteryBreakerOpen", "ExcessiveVoltageDrop"]
    calls["vitals()"] = vitals
    calls["alerts()"] = ["PodCommissionTime", "ExcessiveVoltageDrop", "BatteryBreakerOpen"]
    wanted = sorted(calls["alerts()"])
    client, _ = app_with({"gw": FakeAdapter(calls, tedapi=True)})

    def alerts(route: str) -> list[str]:
        body = client.get(route).json()
        if isinstance(body, dict):  # /pw/alerts: {"alerts": [...]}; /alerts/pw: {name: 1}
            body = body.get("alerts", list(body))
        return [n for n in body if n in wanted]

    # Vitals come with a slower tier than /alerts' data: wait until every route has its poll.
    wait_until(lambda: all(alerts(route) for route in ALERT_ROUTES))
    for route in ALERT_ROUTES:
        assert alerts(route) == wanted, route


# --- /stats has every key of the proxy's, with our true values ------------
def test_stats_has_the_proxy_keys_connection_health_fallback_mode_mem_cache(app_with) -> None:
    contract = json.loads((CONTRACT / "local" / "responses.json").read_text())["/stats"]["body"]
    adapter = FakeAdapter(contract_calls("local"))
    client, _ = app_with({"home": adapter})
    wait_until(lambda: client.get("/aggregates").status_code == 200)
    proxy_keys = list(contract)
    stats = client.get("/stats").json()
    assert list(stats)[: len(proxy_keys)] == proxy_keys  # the proxy's keys, in its order
    for key in ("connection_health", "fallback_mode"):
        assert set(stats[key]) == set(contract[key]), key
    assert stats["fallback_mode"]["is_fallback_mode"] is False
    proxy_cache = list(contract["mem_cache"])
    assert list(stats["mem_cache"])[: len(proxy_cache)] == proxy_cache  # /stats mem_cache
    for key in proxy_cache[:-2]:
        assert set(stats["mem_cache"][key]) == {"entries", "size_bytes"}, key

    def answers_counted() -> bool:  # a poll may publish a new Snapshot between requests
        client.get("/aggregates")
        client.get("/vitals")
        now = client.get("/stats").json()
        health, cache = now["connection_health"], now["mem_cache"]
        return (
            health["total_successes"] >= 1
            and health["consecutive_failures"] == 0
            and health["is_degraded"] is False
            and health["cache_size"] >= 2
            and cache["snapshot_answers"]["entries"] >= 2
            and cache["degradation_cache"] == cache["snapshot_answers"]
            and cache["endpoint_stats"]["entries"] >= 2
            and cache["total_cache_bytes"] > 0
        )

    wait_until(answers_counted)

    adapter.fail = True
    wait_until(
        lambda: client.get("/stats").json()["connection_health"]["consecutive_failures"] >= 2
    )
    down = client.get("/stats").json()
    assert down["connection_health"]["is_degraded"] is True
    assert down["connection_health"]["total_failures"] >= 2
    assert down["fallback_mode"]["recovery_attempts"] >= 2
    assert down["fallback_mode"]["last_recovery_attempt"] is not None


# --- the small ones -------------------------------------------------------------------
def test_unknown_gateway_data_name_is_404_not_422(app_with) -> None:
    client, _ = app_with({"home": FakeAdapter(contract_calls("local"))})
    wait_until(lambda: client.get("/api/gateways/home/vitals").status_code == 200)
    response = client.get("/api/gateways/home/nonexistent")
    assert response.status_code == 404
    assert "nonexistent" in response.json()["error"] and "vitals" in response.json()["error"]
    assert client.get("/api/gateways/nobody/vitals").status_code == 404
    schema = client.get("/openapi.json").json()["paths"]["/api/gateways/{gateway_id}/{name}"]
    name = next(p for p in schema["get"]["parameters"] if p["name"] == "name")
    assert "alerts" in name["schema"]["enum"]  # the names stay documented


def test_unknown_firmware_version_is_null_not_empty(app_with) -> None:
    calls = contract_calls("tedapi")
    calls["version()"] = ""
    client, _ = app_with({"home": FakeAdapter(calls, tedapi=True)})
    wait_until(lambda: client.get("/api/gateways/home").status_code == 200)
    assert client.get("/api/gateways/home").json()["data"]["firmware_version"] is None


def test_stats_and_help_are_served_per_gateway(app_with) -> None:
    client, _ = app_with(
        {
            "home": FakeAdapter(contract_calls("local")),
            "barn": FakeAdapter(contract_calls("tedapi"), tedapi=True),
        }
    )
    wait_until(lambda: client.get("/health").json()["status"] == "healthy")
    home, barn = client.get("/gw/home/stats"), client.get("/gw/barn/stats")
    assert home.status_code == barn.status_code == 200
    assert home.json()["tedapi"] is False and barn.json()["tedapi"] is True
    assert barn.json()["mode"] == "Local (full)"
    page = client.get("/gw/barn/help")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Local (full)" in page.text
    assert client.get("/gw/nobody/stats").status_code == 404
    assert client.get("/gw/nobody/help").status_code == 404
