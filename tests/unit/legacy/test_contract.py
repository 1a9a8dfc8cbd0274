"""THE CONTRACT TEST: render_legacy against the legacy proxy's captured responses.

Real captures (local, tedapi) are replayed twice: with every library.json call, and with
only the calls our poller makes (FAST_CALLS + SLOW_CALLS; everything else is derived).
Edge scenarios are replayed with every call (their values are synthetic and inconsistent
between calls on purpose).  Bodies must match byte for byte (sha256) except:
* alert lists/keys: compared as sets, i.e. the captured body in our (sorted) order must
  give our bytes (the proxy's order is Python set order);
* volatile paths (tedapi VITALS.timestamp): removed, then re-serialized in the proxy's
  layout and compared as text;
* data the gateway mode never provides (legacy/not_provided.py): the proxy's bytes, plus an
  X-Data-Unavailable header;
* the deliberate differences, asserted explicitly: Unavailable where the proxy answered 200 with
  null/"TIMEOUT!"/{}/[]/zeros for missing primary data, 404 JSON for unknown /api/ paths,
  None (not ours) for web-branch URLs, a sensible answer where the proxy crashed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from pypowerwall_server.legacy import (
    NOT_PROVIDED_HEADER,
    LegacyResponse,
    Unavailable,
    render_legacy,
)

from .legacy_contract_data import EDGE_SCENARIOS, MODES, Scenario, drop_path, is_ours, load

ALERT_URLS = frozenset({"/alerts", "/alerts/pw", "/pw/alerts"})
WEB_BRANCH = frozenset({"/vitals?x=1", "/aggregates?x=1", "/soe?x=1"})
NOT_FOUND = frozenset(
    {
        "/api/devices/vitals",
        "/api/not_allowlisted",
        "/api/system_status/soe?x=1",
        "/api/meters/aggregates?x=1",
    }
)
CSV_URLS = frozenset(
    {"/csv", "/csv?headers", "/csv/v2", "/csv/v2?headers", "/csvfoo", "/csv?noheaders"}
    | {"/csv/v2?x=1"}
)
# The simulator behind the tedapi capture has no grid status and no /api/meters/solar.
TEDAPI_GAPS = frozenset(
    {
        "/api/system_status/grid_status",
        "/api/system_status/grid_status?x=1",
        "/api/meters/solar",
        "/pw/grid_status",
    }
)
LOCAL_GAPS = frozenset(
    {
        *(
            "/api/" + path
            for path in (
                "meters/site",
                "meters/solar",
                "system_status",
                "system/update/status",
                "operation",
                "site_info/grid_codes",
                "solars",
                "solars/brands",
                "customer",
                "meters",
                "installer",
                "system/networks",
                "meters/readings",
                "synchrometer/ct_voltage_references",
            )
        ),
        "/pw/battery_blocks",
        "/pw/system_status",
        "/pw/get_reserve",
        "/pw/get_mode",
        "/pw/get_time_remaining",
    }
)
# edge supplies grid_status('json') itself (SYNCING), so /pw/grid_status has data.
EDGE_MISSING = (TEDAPI_GAPS - {"/pw/grid_status"}) | {
    "/soe",
    "/vitals",
    "/temps",
    "/alerts",
    "/alerts/pw",
    "/version",
    "/api/status",
    "/api/status?x=1",
    "/pw/power",
    "/pw/alerts",
    "/pw/get_time_remaining",
}
EMPTY_AGGREGATES = (
    TEDAPI_GAPS
    | CSV_URLS
    | {
        "/aggregates",
        "/api/meters/aggregates",
        "/json",
        "/pw/power",
        "/pw/aggregates",
    }
)
# Answers that do not depend on data (so they stay when every call is None).
CONSTANT_URLS = frozenset(
    {
        "/api/customer/registration",
        "/api/customer/registration?x=1",
        "/api/troubleshooting/problems",
        "/api/troubleshooting/problems?x=1",
        "/cloud",
        "/cloud/battery",
        "/cloud/power",
        "/cloud/config",
        "/fleetapi",
        "/fleetapi/info",
        "/fleetapi/status",
        "/pw/bogus",
        "/pw/level?x=1",
        "/tedapi",
        "/tedapi/config?x=1",
    }
)
WITHOUT_TEDAPI = frozenset(
    {"/fans", "/fans/pw", "/fans/pw?x=1", *(f"/tedapi/{r}" for r in ("config", "status"))}
    | {"/tedapi/components", "/tedapi/battery", "/tedapi/controller"}
)


def _all_missing(scenario: str, without_tedapi: bool) -> frozenset[str]:
    urls = {url for url in load(scenario).responses if is_ours(url)}
    answered = (
        CONSTANT_URLS | WEB_BRANCH | NOT_FOUND | (WITHOUT_TEDAPI if without_tedapi else set())
    )
    return frozenset(urls - answered)


NO_DATA: dict[str, frozenset[str]] = {
    "local": LOCAL_GAPS,
    "tedapi": TEDAPI_GAPS,
    "edge/allnone_local": _all_missing("edge/allnone_local", without_tedapi=True),
    "edge/allnone_tedapi": _all_missing("edge/allnone_tedapi", without_tedapi=False),
    "edge/blocks_null": TEDAPI_GAPS,
    "edge/edge": EDGE_MISSING,
    "edge/edge_env": EDGE_MISSING,
    "edge/empty_aggregates": EMPTY_AGGREGATES,
    "edge/pod_flag_string": TEDAPI_GAPS,
    "edge/site_none": TEDAPI_GAPS,
}
# Synthetic inputs that disagree with each other: power() has values while the aggregates
# they come from are {}.  Our primary source (the aggregates) says no data.
INCONSISTENT_INPUT = frozenset({("edge/empty_aggregates", "/pw/power")})
# We answer the proxy's constant for /api/troubleshooting/problems with any query string.
OTHER_ANSWER = {"/api/troubleshooting/problems?x=1": b'{"problems": []}'}
CRASHED = {
    ("edge/blocks_null", "/freq"),
    ("edge/blocks_null", "/pod"),
    ("edge/pod_flag_string", "/pod"),
    ("edge/site_none", "/json"),
}


def _cases() -> list[tuple[str, bool, str]]:
    cases = [
        (mode, polled, url) for mode in MODES for polled in (True, False) for url in _urls(mode)
    ]
    cases += [
        (f"edge/{name}", False, url) for name in EDGE_SCENARIOS for url in _urls(f"edge/{name}")
    ]
    return cases


def _urls(scenario: str) -> list[str]:
    return [url for url in load(scenario).responses if is_ours(url)]


def _render(scenario: Scenario, url: str, polled_only: bool) -> Any:
    calls = scenario.polled_calls() if polled_only else scenario.calls
    return render_legacy(url, calls, scenario.attributes, scenario.options)


def _said_no_data(url: str, body: Any) -> bool:
    """The proxy's ways of answering "no data" with status 200."""
    if body in (None, "TIMEOUT!", {}, []):
        return True
    if url in CSV_URLS:
        return all(float(v) == 0 for v in body.splitlines()[-1].split(",")[:4])
    if url == "/json":
        return all(body[key] == 0 for key in ("grid", "home", "solar", "battery"))
    if url == "/version":
        return bool(body == {"version": "SolarOnly", "vint": 0})
    return isinstance(body, dict) and all(value is None for value in body.values())


def _layout(value: Any, style: str | None) -> str:
    if style == "indent4":
        return json.dumps(value, indent=4, sort_keys=True)
    return json.dumps(value)


def _sorted_alerts(url: str, body: Any) -> Any:
    """The captured alert body in our order (sorted names; the proxy's is set order)."""
    if url == "/alerts/pw":
        return {name: body[name] for name in sorted(body)}
    if url == "/pw/alerts":
        return {"alerts": sorted(body["alerts"])}
    return sorted(body)


def _assert_same(
    scenario: Scenario, url: str, captured: dict[str, Any], ours: LegacyResponse, derived: bool
) -> None:
    assert ours.status == 200
    assert ours.content_type == captured["content_type"]
    if captured["body_encoding"] == "text":
        assert ours.body.decode("utf-8") == captured["body"]
        assert hashlib.sha256(ours.body).hexdigest() == captured["sha256"]
        return
    parsed = json.loads(ours.body)
    if url in ALERT_URLS and derived:  # our alerts(); a given alerts() keeps its order
        expected = _sorted_alerts(url, captured["body"])
        assert ours.body.decode() == _layout(expected, captured.get("json_style"))
        return
    volatile = scenario.volatile.get(url, [])
    if not volatile:
        assert hashlib.sha256(ours.body).hexdigest() == captured["sha256"], ours.body[:300]
        return
    expected, actual = captured["body"], parsed
    for path in volatile:
        expected, actual = drop_path(expected, path), drop_path(actual, path)
    style = captured.get("json_style")
    assert _layout(actual, style) == _layout(expected, style)


@pytest.mark.parametrize(("name", "polled_only", "url"), _cases())
def test_route_matches_the_proxy(name: str, polled_only: bool, url: str) -> None:
    scenario = load(name)
    captured = scenario.responses[url]
    ours = _render(scenario, url, polled_only)
    if (name, url) in CRASHED:
        assert "error" in captured and isinstance(ours, LegacyResponse)  # see test_crash_*
    elif url in WEB_BRANCH:
        assert ours is None  # web branch: not a legacy read route (the proxy proxied it)
    elif url in NOT_FOUND:
        assert captured["body"] == "Not Found" and captured["content_type"] == "text/plain"
        assert ours == LegacyResponse(404, "application/json", b'{"error": "Not Found"}')
    elif isinstance(ours, LegacyResponse) and ours.headers:
        # never provided by this gateway mode (not_provided.py): the proxy's own bytes
        assert dict(ours.headers)[NOT_PROVIDED_HEADER], ours
        assert ours.status == 200 and captured["status"] == 200
        assert hashlib.sha256(ours.body).hexdigest() == captured["sha256"], ours.body
    elif url in NO_DATA[name]:
        assert isinstance(ours, Unavailable), ours
        assert ours.plain_text == (url in CSV_URLS)
        assert _said_no_data(url, captured["body"]) or (name, url) in INCONSISTENT_INPUT
    elif url in OTHER_ANSWER and captured["body"] is None:
        assert ours == LegacyResponse(200, "application/json", OTHER_ANSWER[url])
    else:
        assert isinstance(ours, LegacyResponse), ours
        _assert_same(scenario, url, captured, ours, derived=polled_only)


def test_every_expected_no_data_url_is_in_the_captures() -> None:
    for name, urls in NO_DATA.items():
        assert urls <= set(load(name).responses), name


def _json_answer(name: str, url: str, calls: dict[str, Any]) -> dict[str, Any]:
    scenario = load(name)
    ours = render_legacy(url, calls, scenario.attributes, scenario.options)
    assert isinstance(ours, LegacyResponse) and ours.status == 200
    body: dict[str, Any] = json.loads(ours.body)
    return body


def _with_system_status(calls: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**calls, "system_status()": {**calls["system_status()"], **changes}}


@pytest.mark.parametrize("url", ["/freq", "/pod"])
def test_crash_null_battery_blocks_counts_as_no_blocks(url: str) -> None:
    calls = load("edge/blocks_null").calls
    assert calls["system_status()"]["battery_blocks"] is None
    body = _json_answer("edge/blocks_null", url, calls)
    assert body == _json_answer(
        "edge/blocks_null", url, _with_system_status(calls, battery_blocks=[])
    )
    assert "PW1_PackageSerialNumber" not in body  # no block fields...
    assert body["PW1_name"].startswith("TEPINV--" if url == "/freq" else "TEPOD--")  # ...vitals


def test_crash_non_numeric_pod_flag_counts_as_zero() -> None:
    calls = load("edge/pod_flag_string").calls
    device = next(name for name in calls["vitals()"] if name.startswith("TEPOD"))
    assert calls["vitals()"][device]["POD_ActiveHeating"] == "yes"
    body = _json_answer("edge/pod_flag_string", "/pod", calls)
    assert body["PW1_POD_ActiveHeating"] == 0
    fixed = {**calls["vitals()"], device: {**calls["vitals()"][device], "POD_ActiveHeating": 0}}
    assert body == _json_answer("edge/pod_flag_string", "/pod", {**calls, "vitals()": fixed})


def test_crash_null_site_section_counts_as_zero_grid_in_json() -> None:
    calls = load("edge/site_none").calls
    assert calls["poll('/api/meters/aggregates')"]["site"] is None
    body = _json_answer("edge/site_none", "/json", calls)
    expected = {**load("tedapi").responses["/json"]["body"], "grid": 0}
    assert body == expected
    assert list(body) == list(expected)


def test_a_missing_contract_folder_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from . import legacy_contract_data

    monkeypatch.setattr(legacy_contract_data, "CONTRACT", tmp_path / "legacy-contract")
    with pytest.raises(AssertionError, match="legacy contract data not found"):
        legacy_contract_data.contract_dir()
