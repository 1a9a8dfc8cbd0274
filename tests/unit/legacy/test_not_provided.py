"""Not available is not "not yet": data a gateway mode or firmware never
provides answers the proxy's empty body with X-Data-Unavailable; data that may still come
keeps the 503 (Unavailable)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from pypowerwall_server.gateway.poller import count_absent
from pypowerwall_server.legacy import (
    NOT_PROVIDED_HEADER,
    LegacyResponse,
    Unavailable,
    render_legacy,
)
from pypowerwall_server.legacy.not_provided import NOT_PROVIDED_AFTER_POLLS
from pypowerwall_server.models import GatewayAttributes, LegacyOptions

from .legacy_contract_data import load

LOCAL = GatewayAttributes("local", False, False, False, False, "off", None, "0.22.2")
HYBRID = replace(LOCAL, tedapi=True, tedapi_mode="hybrid")
TEDAPI = replace(LOCAL, mode="tedapi", tedapi=True, tedapi_mode="full")
VITALS_ROUTES = {
    "/vitals": b"null",
    "/pw/vitals": b"null",
    "/temps": b"{}",
    "/temps/pw": b"{}",
    "/pw/temps": b"null",
}


def _calls(firmware: str | None, vitals: Any = None) -> dict[str, Any]:
    status = None if firmware is None else {"version": firmware, "din": "x"}
    return {"poll('/api/status')": status, "vitals()": vitals, "poll('/api/meters/solar')": None}


def _render(
    path: str, calls: dict[str, Any], attributes: GatewayAttributes, absent: dict[str, int]
) -> Any:
    return render_legacy(path, calls, attributes, LegacyOptions(), absent)


# (case, attributes, firmware, absent polls) -> never provided?
VITALS_CASES = {
    "local, firmware 23.44: never": (LOCAL, "23.44.0 9064fc6a", {}, True),
    "local, firmware 24.44.1: never": (LOCAL, "24.44.1 c58c2df3", {}, True),
    "local, firmware 23.36: not yet": (LOCAL, "23.36.2 abc", {}, False),
    "local, firmware unknown: not yet": (LOCAL, None, {}, False),
    "local + TEDAPI (hybrid) gives vitals: not yet": (HYBRID, "24.44.1", {}, False),
    "TEDAPI gives vitals: not yet": (TEDAPI, "24.44.1", {}, False),
    "TEDAPI, empty for many polls in a row: never": (
        TEDAPI,
        "24.44.1",
        {"vitals()": NOT_PROVIDED_AFTER_POLLS},
        True,
    ),
    "TEDAPI, one poll short: not yet": (
        TEDAPI,
        "24.44.1",
        {"vitals()": NOT_PROVIDED_AFTER_POLLS - 1},
        False,
    ),
}


@pytest.mark.parametrize("path", VITALS_ROUTES)
@pytest.mark.parametrize("case", VITALS_CASES)
def test_not_available_is_not_not_yet_vitals(case: str, path: str) -> None:
    attributes, firmware, absent, never = VITALS_CASES[case]
    ours = _render(path, _calls(firmware), attributes, absent)
    if never:
        assert isinstance(ours, LegacyResponse), ours
        assert (ours.status, ours.body) == (200, VITALS_ROUTES[path])  # the proxy's bytes
        assert dict(ours.headers)[NOT_PROVIDED_HEADER]
    else:
        assert isinstance(ours, Unavailable), ours


def test_not_available_is_not_not_yet_data_present_is_served() -> None:
    vitals = {"TETHC--1--TG1": {"THC_AmbientTemp": 21.5}}
    ours = _render("/temps/pw", _calls("24.44.1", vitals), LOCAL, {})
    assert ours == LegacyResponse(200, "application/json", b'{"PW1_temp": 21.5}')


@pytest.mark.parametrize(
    ("attributes", "absent", "never"),
    [
        (TEDAPI, {}, True),  # the library's TEDAPI mode never implements it
        (LOCAL, {}, False),
        (LOCAL, {"poll('/api/meters/solar')": NOT_PROVIDED_AFTER_POLLS}, True),
    ],
)
def test_not_available_is_not_not_yet_api_passthrough(
    attributes: GatewayAttributes, absent: dict[str, int], never: bool
) -> None:
    ours = _render("/api/meters/solar", _calls("24.44.1"), attributes, absent)
    if never:
        assert isinstance(ours, LegacyResponse)
        assert ours.body == b"null" and NOT_PROVIDED_HEADER in dict(ours.headers)
    else:
        assert isinstance(ours, Unavailable)


def test_not_available_is_not_not_yet_routes_with_other_sources_keep_503() -> None:
    # /aggregates is every gateway's core data: missing means late, never "not provided"
    calls = {**_calls("24.44.1"), "poll('/api/meters/aggregates')": None}
    absent = {"poll('/api/meters/aggregates')": 100}
    assert isinstance(_render("/aggregates", calls, LOCAL, absent), Unavailable)


def test_count_absent_counts_empty_polls_in_a_row() -> None:
    counts = count_absent({}, {"vitals()": None, "level()": 50})
    counts = count_absent(counts, {"vitals()": None, "level()": None})
    assert counts == {"vitals()": 2, "level()": 1}
    counts = count_absent(counts, {"vitals()": {"x": 1}})  # data resets; calls not made keep
    assert counts == {"vitals()": 0, "level()": 1}


@pytest.mark.parametrize("path", VITALS_ROUTES)
def test_not_available_is_not_not_yet_gives_the_proxys_bytes(path: str) -> None:
    """The proxy's capture with no vitals (edge/allnone_local), on firmware 24.44: our
    answer is its body byte for byte (sha256), status 200, plus the reason."""
    scenario = load("edge/allnone_local")
    calls = {**scenario.polled_calls(), "poll('/api/status')": {"version": "24.44.1 c58c2df3"}}
    ours = render_legacy(path, calls, scenario.attributes, scenario.options)
    captured = scenario.responses[path]
    assert isinstance(ours, LegacyResponse), ours
    assert (ours.status, ours.content_type) == (captured["status"], captured["content_type"])
    assert hashlib.sha256(ours.body).hexdigest() == captured["sha256"]
    assert NOT_PROVIDED_HEADER in dict(ours.headers)
