"""Table tests for the legacy helpers: CSV formatting, parse_version, env rules, /pod flags,
routing and cache keys, call tiers."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pypowerwall
import pytest

from pypowerwall_server.legacy import (
    FAST_CALLS,
    SLOW_CALLS,
    LegacyResponse,
    Unavailable,
    cache_key,
    env_rules,
    render_legacy,
)
from pypowerwall_server.legacy.csv_route import format_float, format_int
from pypowerwall_server.legacy.derived import parse_version
from pypowerwall_server.legacy.freq_pod import flag
from pypowerwall_server.legacy.passthrough import POLLED_API_PATHS
from pypowerwall_server.models import GatewayAttributes, LegacyOptions

from .legacy_contract_data import EDGE_SCENARIOS, MODES, is_ours, load


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (23.975388, "23.98"),  # correctly rounded
        (19.995, "20.00"),
        (1.005, "1.00"),  # binary 1.00499...
        (0.125, "0.12"),  # half to even on an exact binary half
        (-2100, "-2100.00"),
        (-0.004, "-0.00"),  # a small negative value keeps its sign
        (-0.0, "0.00"),  # the proxy's `value or 0` turns -0.0 into 0
        (None, "0.00"),
        ("12", "0.00"),  # the proxy crashed on text
        (float("nan"), "nan"),
    ],
)
def test_format_float(value: Any, text: str) -> None:
    assert format_float(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (19.97, "19"),  # %d truncates
        (-1.9, "-1"),  # towards zero
        (-0.5, "0"),
        (1, "1"),
        (None, "0"),
        (float("nan"), "0"),  # %d cannot print it (the proxy crashed)
        (float("inf"), "0"),
    ],
)
def test_format_int(value: Any, text: str) -> None:
    assert format_int(value) == text


VERSIONS = [
    "23.44.0 9064fc6a",
    "",
    "24.4",
    "1.2.3.4",
    "1/2.3",
    "unknown",
    "25.10.1",
    "v24.12.5-beta",
    "1..2",
    None,
    42,
]


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_version_matches_the_library(version: Any) -> None:
    assert parse_version(version) == pypowerwall.parse_version(version)


@pytest.mark.parametrize(
    ("version", "vint"),
    [("23.44.0 9064fc6a", 234400), ("24.4", 240400), ("1.2.3.4", 1020304), ("", None)],
)
def test_parse_version_values(version: str, vint: int | None) -> None:
    assert parse_version(version) == vint


ENV = LegacyOptions(neg_solar=False, site_zero_threshold=50)


@pytest.mark.parametrize(
    ("site", "options", "result"),
    [
        (30, ENV, 0),
        (50, ENV, 0),  # |site| <= N
        (-50, ENV, 0),
        (50.5, ENV, 50.5),
        (30, LegacyOptions(), 30),  # N = 0: the rule is off
        (-0.0, LegacyOptions(), -0.0),
        (None, ENV, None),
        ("30", ENV, "30"),
    ],
)
def test_zero_small_site(site: Any, options: LegacyOptions, result: Any) -> None:
    assert json.dumps(env_rules.zero_small_site(site, options)) == json.dumps(result)


@pytest.mark.parametrize(
    ("solar", "load", "options", "result"),
    [
        (-50.5, 900.25, ENV, (0, 950.75)),
        (-10, None, ENV, (0, None)),  # a None load stays None
        (10, 900, ENV, (10, 900)),
        (None, 900, ENV, (None, 900)),
        (-50.5, 900.25, LegacyOptions(), (-50.5, 900.25)),  # neg_solar on: unchanged
    ],
)
def test_move_negative_solar(solar: Any, load: Any, options: LegacyOptions, result: Any) -> None:
    assert env_rules.move_negative_solar(solar, load, options) == result


@pytest.mark.parametrize(
    ("aggregates", "result"),
    [
        (
            {
                "site": {"instant_power": 3},
                "solar": {"instant_power": -5},
                "load": {"instant_power": 1},
            },
            {
                "site": {"instant_power": 0},
                "solar": {"instant_power": 0},
                "load": {"instant_power": 6},
            },
        ),
        # null sections: the proxy crashed with a threshold; we leave them alone
        ({"site": None, "solar": {"instant_power": -5}, "load": None}, None),
        ({"solar": {"instant_power": -5}, "load": {"instant_power": None}}, None),
    ],
)
def test_env_rules_on_aggregates(aggregates: dict[str, Any], result: Any) -> None:
    data = copy.deepcopy(aggregates)
    env_rules.apply_to_aggregates(data, ENV)
    expected = result or {**aggregates, "solar": {"instant_power": 0}}
    assert json.dumps(data) == json.dumps(expected)


@pytest.mark.parametrize(
    ("value", "result"),
    [(None, 0), (False, 0), (True, 1), (1.7, 1), ("2", 2), ("yes", 0), ([1], 0), (math.inf, 0)],
)
def test_pod_flag(value: Any, result: int) -> None:
    assert flag(value) == result


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/aggregates", "/aggregates"),
        ("/api/meters/aggregates", "/aggregates"),
        ("/csv", "/csv"),
        ("/csvfoo", "/csv"),
        ("/csv?noheaders", "/csv_headers"),
        ("/csv/v2", "/csv/v2"),
        ("/csv/v2?x=1", "/csv/v2"),
        ("/csv/v2?headers", "/csv/v2_headers"),
        ("/vitals", "/vitals"),
        ("/tedapi/config", "/tedapi/config"),
        ("/tedapi/config?x=1", "/tedapi"),
        ("/tedapifoo", "/tedapi"),
        ("/cloudy", "/cloud"),
        ("/cloud/battery", "/cloud/battery"),
        ("/fleetapi/info", "/fleetapi/info"),
        ("/fans/pwx", "/fans/pw"),
        ("/api/status?x=1", "/api/status"),
        ("/api/customer/registration?x=1", "/api/customer/registration"),
        ("/api/troubleshooting/problems?x=1", "/api/troubleshooting/problems"),
        ("/api/not_allowlisted", "/api/<unknown>"),
        ("/api/meters/aggregates?x=1", "/api/<unknown>"),
        ("/pw/level", "/pw/level"),
        ("/pw/level?x=1", "/pw/<invalid>"),
        ("/pw/", "/pw/<invalid>"),
        ("/pw/level/", "/pw/<invalid>"),
        # not legacy read routes: the lead's, the web branch
        ("/stats", None),
        ("/health", None),
        ("/help", None),
        ("/control/reserve", None),
        ("/", None),
        ("/index.html", None),
        ("/vitals?x=1", None),
        ("/fans?x=1", None),
        ("/api", None),
    ],
)
def test_cache_key(path: str, key: str | None) -> None:
    assert cache_key(path) == key


def _all_urls() -> list[str]:
    urls = {url for name in MODES for url in load(name).responses}
    extra = ["/tedapifoo", "/cloudy", "/fans/pwx", "/pw/", "/pw/level/", "/api/x?y", "/csv/v2x"]
    return sorted(urls | set(extra))


@pytest.mark.parametrize("mode", MODES)
def test_urls_with_one_cache_key_give_one_answer(mode: str) -> None:
    scenario = load(mode)
    by_key: dict[str, Any] = {}
    for url in _all_urls():
        answer = render_legacy(url, scenario.polled_calls(), scenario.attributes, LegacyOptions())
        key = cache_key(url)
        assert (key is None) == (answer is None), url
        if key is not None:
            assert by_key.setdefault(key, answer) == answer, url


@pytest.mark.parametrize("name", [*MODES, *(f"edge/{s}" for s in EDGE_SCENARIOS)])
def test_rendering_never_changes_the_calls(name: str) -> None:
    scenario = load(name)
    calls = copy.deepcopy(scenario.calls)
    for url in filter(is_ours, scenario.responses):
        render_legacy(url, calls, scenario.attributes, ENV)
    assert calls == scenario.calls


def test_csv_missing_aggregates_is_plain_text_no_data() -> None:
    attributes = load("local").attributes
    answer = render_legacy("/csv/v2?headers", {}, attributes, LegacyOptions())
    assert answer == Unavailable("no meter aggregates yet", plain_text=True)
    assert render_legacy("/json", {}, attributes, LegacyOptions()) == Unavailable(
        "no meter aggregates yet"
    )


def test_call_tiers() -> None:
    names = FAST_CALLS + SLOW_CALLS
    assert len(set(names)) == len(names)  # no duplicates, no call in both tiers
    assert not [name for name in names if "jsonformat" in name]
    assert set(names) <= set(load("tedapi").calls)  # spelled as in library.json
    assert {f"poll('{path}')" for path in POLLED_API_PATHS} <= set(names)
    assert "poll('/api/customer/registration')" not in names  # personal data: never fetched


CLOUD = GatewayAttributes(
    mode="cloud",
    tedapi=False,
    pw3=False,
    cloudmode=True,
    fleetapi=False,
    tedapi_mode="off",
    tedapi_api_version=None,
    library_version="0.22.2",
)


@pytest.mark.parametrize(
    ("path", "calls", "body"),
    [
        ("/cloud", {}, b'{"error": "Use /cloud/battery, /cloud/power, /cloud/config"}'),
        ("/cloud/power", {"client.get_site_power()": {"solar": 1}}, b'{"solar": 1}'),
        ("/fleetapi", {}, b'{"error": "FleetAPI not enabled"}'),
        ("/tedapi", {}, b'{"error": "TEDAPI not enabled"}'),
        ("/fans/pw", {}, b"{}"),
    ],
)
def test_cloud_mode_routes(path: str, calls: dict[str, Any], body: bytes) -> None:
    answer = render_legacy(path, calls, CLOUD, LegacyOptions())
    assert answer == LegacyResponse(200, "application/json", body)


def test_cloud_data_not_polled_is_no_data() -> None:
    assert isinstance(render_legacy("/cloud/battery", {}, CLOUD, LegacyOptions()), Unavailable)


@pytest.mark.parametrize("path", ["/api/installer", "/api/networks", "/api/system/networks"])
def test_installer_and_networks_personal_data_only_when_opted_in(path: str) -> None:
    """Installer contact details and network names stay out of
    unauthenticated answers unless PW_PERSONAL_DATA is yes."""
    scenario = load("tedapi")
    calls = {f"poll('{path}')": {"email": "installer@example.com", "network_name": "HomeWiFi"}}
    withheld = render_legacy(path, calls, scenario.attributes, LegacyOptions())
    assert isinstance(withheld, LegacyResponse) and withheld.status == 403
    assert b"PW_PERSONAL_DATA" in withheld.body and b"HomeWiFi" not in withheld.body
    served = render_legacy(path, calls, scenario.attributes, LegacyOptions(personal_data=True))
    assert isinstance(served, LegacyResponse) and served.status == 200
    assert b"installer@example.com" in served.body
