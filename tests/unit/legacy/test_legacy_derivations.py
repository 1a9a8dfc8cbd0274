"""Derived calls (level(), strings(), alerts(), ...) against the real pypowerwall code.

Each case feeds the same gateway answers to our derivations and to the library's own
Powerwall methods (run on a fake client that returns those answers, no network), and
requires the same JSON bytes.  Where the library raises (its caller got None) we must give
None; where it invents an empty {} / [] for missing sources we give None (documented).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pypowerwall import Powerwall
from pypowerwall.pypowerwall_base import PyPowerwallBase

from pypowerwall_server.legacy.derivations import make_view

from .legacy_contract_data import EDGE_SCENARIOS, MODES, load

VITALS = "vitals()"


class FakeClient(PyPowerwallBase):  # type: ignore[misc]
    def __init__(self, polls: dict[str, Any], vitals: Any) -> None:
        super().__init__("nobody@example.com")
        self._polls, self._vitals = polls, vitals

    def authenticate(self) -> None: ...

    def close_session(self) -> None: ...

    def poll(
        self, api: str, force: bool = False, recursive: bool = False, raw: bool = False
    ) -> Any:
        return copy.deepcopy(self._polls.get(api))

    def post(self, *args: Any, **kwargs: Any) -> None: ...

    def vitals(self) -> Any:
        return copy.deepcopy(self._vitals)

    def get_time_remaining(self) -> None: ...


def library(polls: dict[str, Any], vitals: Any) -> Any:
    pw = Powerwall.__new__(Powerwall)  # no connection: only .client is used by these calls
    pw.client = FakeClient(polls, vitals)
    return pw


LIBRARY_CALLS: dict[str, Any] = {
    "level()": lambda pw: pw.level(),
    "level(scale=True)": lambda pw: pw.level(scale=True),
    "power()": lambda pw: pw.power(),
    **{
        f"{s}(verbose=True)": (lambda pw, s=s: getattr(pw, s)(verbose=True))
        for s in ("site", "solar", "battery", "load", "grid", "home")
    },
    "grid_status('string')": lambda pw: pw.grid_status("string"),
    "grid_status('numeric')": lambda pw: pw.grid_status("numeric"),
    "grid_status('json')": lambda pw: pw.grid_status("json"),
    "get_reserve()": lambda pw: pw.get_reserve(),
    "get_mode()": lambda pw: pw.get_mode(),
    "system_status()": lambda pw: pw.system_status(),
    "status()": lambda pw: pw.status(),
    "version()": lambda pw: pw.version(),
    "version(int_value=True)": lambda pw: pw.version(int_value=True),
    "din()": lambda pw: pw.din(),
    "uptime()": lambda pw: pw.uptime(),
    "is_connected()": lambda pw: pw.is_connected(),
    "site_name()": lambda pw: pw.site_name(),
    "strings()": lambda pw: pw.strings(),
    "strings(verbose=True)": lambda pw: pw.strings(verbose=True),
    "temps()": lambda pw: pw.temps(),
    "alerts()": lambda pw: pw.alerts(),
    "battery_blocks()": lambda pw: pw.battery_blocks(),
    "vitals(jsonformat=True)": lambda pw: pw.vitals(jsonformat=True),
    "strings(jsonformat=True)": lambda pw: pw.strings(jsonformat=True),
    "temps(jsonformat=True)": lambda pw: pw.temps(jsonformat=True),
}
# Ours is None where the library builds an empty answer from missing sources.
NONE_WHEN_NO_SOURCE = {"strings()", "strings(verbose=True)", "strings(jsonformat=True)"} | {
    "temps()",
    "temps(jsonformat=True)",
    "alerts()",
}


def _ours(polls: dict[str, Any], vitals: Any, name: str) -> Any:
    calls: dict[str, Any] = {f"poll('{api}')": value for api, value in polls.items()}
    calls[VITALS] = vitals
    view = make_view(calls)
    if name == "version(int_value=True)":
        return view.get("parse_version(version())")
    return view.get(name)


def _theirs(polls: dict[str, Any], vitals: Any, name: str) -> Any:
    try:
        return LIBRARY_CALLS[name](library(polls, vitals))
    except Exception:  # the proxy turned any library exception into None
        return None


def _normalized(name: str, value: Any) -> str:
    if name == "alerts()" and isinstance(value, list):
        value = sorted(value)  # the library's order is set order
    return json.dumps(value)


def assert_same_as_library(polls: dict[str, Any], vitals: Any) -> None:
    for name in LIBRARY_CALLS:
        ours, theirs = _ours(polls, vitals, name), _theirs(polls, vitals, name)
        if ours is None and theirs == "null":  # jsonformat of a None payload: we keep None
            continue
        if ours is None and name in NONE_WHEN_NO_SOURCE:
            assert theirs in ({}, [], "{}") or name == "alerts()", (name, theirs)
            continue
        assert _normalized(name, ours) == _normalized(name, theirs), name


def _contract_inputs(name: str) -> tuple[dict[str, Any], Any]:
    calls = load(name).calls
    polls = {
        call[len("poll('") : -len("')")]: value
        for call, value in calls.items()
        if call.startswith("poll('") and "jsonformat" not in call
    }
    return polls, calls[VITALS]


@pytest.mark.parametrize("name", [*MODES, *(f"edge/{s}" for s in EDGE_SCENARIOS)])
def test_derivations_match_the_library_on_contract_inputs(name: str) -> None:
    assert_same_as_library(*_contract_inputs(name))


NEVER_POLLED = ("/api/customer/registration", "/api/troubleshooting/problems")  # constants


@pytest.mark.parametrize("mode", MODES)
def test_derived_calls_equal_the_captured_library_values(mode: str) -> None:
    calls = load(mode).calls
    polled = load(mode).polled_calls()
    view = make_view(polled)
    for name, value in calls.items():
        if name in polled or name.startswith("tedapi.") or "alertsonly" in name:
            continue
        if any(path in name for path in NEVER_POLLED):
            continue
        ours = view.get(name)
        if value == "null" and "jsonformat=True" in name:  # a None payload: we keep None
            assert ours is None, name
            continue
        if name.startswith("alerts("):
            ours, value = (
                sorted(json.loads(ours) if "json" in name else ours),
                sorted(json.loads(value) if "json" in name else value),
            )
        elif name == "vitals(jsonformat=True)" and mode == "tedapi":
            ours, value = _without_timestamp(ours), _without_timestamp(value)
        elif name == "version(int_value=True)":
            ours = view.get("parse_version(version())")
        assert json.dumps(ours) == json.dumps(value), name


def _without_timestamp(text: str) -> str:
    data = json.loads(text)
    del data["VITALS"]["timestamp"]
    return json.dumps(data, indent=4, sort_keys=True)


def _tedapi() -> tuple[dict[str, Any], dict[str, Any]]:
    return _contract_inputs("tedapi")


def _with_polls(**changes: Any) -> tuple[dict[str, Any], Any]:
    polls, vitals = _tedapi()
    return {**polls, **{"/api/" + k.replace("__", "/"): v for k, v in changes.items()}}, vitals


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "reserve 5 % raw is int 0": _with_polls(operation={"backup_reserve_percent": 5}),
    "reserve below 5 % is int 0": _with_polls(operation={"backup_reserve_percent": 2}),
    "reserve 20 %": _with_polls(operation={"backup_reserve_percent": 20, "real_mode": "backup"}),
    "reserve 99.9 %": _with_polls(operation={"backup_reserve_percent": 99.9}),
    "reserve as text": _with_polls(operation={"backup_reserve_percent": "24.5"}),
    "reserve unreadable": _with_polls(operation={"backup_reserve_percent": "abc"}),
    "operation not a dict": _with_polls(operation="TIMEOUT!"),
    "empty mode": _with_polls(operation={"real_mode": ""}),
    "soe 0 %": _with_polls(system_status__soe={"percentage": 0}),
    "soe as int": _with_polls(system_status__soe={"percentage": 100}),
    "soe 1 %": _with_polls(system_status__soe={"percentage": 1}),  # float order matters here
    "soe 99.9 %": _with_polls(system_status__soe={"percentage": 99.9}),
    "soe without percentage": _with_polls(system_status__soe={"soe": 5}),
    "soe as text": _with_polls(system_status__soe={"percentage": "50"}),
    "grid islanded": _with_polls(
        system_status__grid_status={"grid_status": "SystemIslandedActive"}
    ),
    "grid syncing": _with_polls(system_status__grid_status={"grid_status": "SystemIslandedReady"}),
    "grid unknown state": _with_polls(system_status__grid_status={"grid_status": "Martian"}),
    "grid services active": _with_polls(
        system_status__grid_status={
            "grid_status": "SystemGridConnected",
            "grid_services_active": True,
        }
    ),
    "grid status empty": _with_polls(system_status__grid_status={}),
    "status without version": _with_polls(status={"din": "x"}),
    "status not a dict": _with_polls(status=["x"]),
    "version with letters": _with_polls(status={"version": "24.4.0-rc2 abc"}),
    "version with slash": _with_polls(status={"version": "1/2.3"}),
    "version with 4 fields": _with_polls(status={"version": "1.2.3.4"}),
    "version without digits": _with_polls(status={"version": "unknown"}),
    "site name missing": _with_polls(site_info__site_name={"timezone": "UTC"}),
    "aggregates without solar": _with_polls(meters__aggregates={"site": {"instant_power": 5}}),
    "aggregates empty": _with_polls(meters__aggregates={}),
    "aggregates null section": _with_polls(meters__aggregates={"site": None, "solar": {}}),
    "blocks without serials": _with_polls(system_status={"battery_blocks": [{"p_out": 1}]}),
    "blocks null": _with_polls(system_status={"battery_blocks": None}),
}


def _no_vitals(solar_powerwall: Any) -> tuple[dict[str, Any], Any]:
    polls, _ = _tedapi()
    return {**polls, "/api/solar_powerwall": solar_powerwall}, None


STRING_VITALS = [
    {"connected": True, "measured_voltage": 300.5 + i, "current": 1.5, "measured_power": 450.0}
    for i in range(5)
]
CASES |= {
    "no vitals, strings from solar_powerwall": _no_vitals(
        {"pvac_status": {"string_vitals": STRING_VITALS}, "pvac_alerts": {"PVAC_a1": True}}
    ),
    "no vitals, pvs alerts": _no_vitals(
        {"pvs_alerts": {"PVS_a2": True, "PVS_a3": False, "PVS_a4": 1}}
    ),
    "no vitals, no solar_powerwall": _no_vitals(None),
    "no vitals, pvac_status without strings": _no_vitals({"pvac_status": {}}),
}


def _vitals_with(extra: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    polls, vitals = _tedapi()
    return polls, {**vitals, **extra}


PVAC2 = {
    "PVAC_PVCurrent_A": 2.0,
    "PVAC_PVMeasuredPower_A": 500.0,
    "PVAC_PVMeasuredVoltage_A": 250.0,
    "PVAC_PvState_A": "PV_Active",
    "PVAC_Pout": 500.0,
}
CASES |= {
    "second inverter strings A1": _vitals_with(
        {
            "PVAC--2--B": PVAC2,
            "PVS--2--B": {"PVS_StringA_Connected": False, "PVS_State": 1, "PVS_StringB_Mode": 3},
        }
    ),
    "pw3 packs with a reading": _vitals_with(
        {"TEPOD--1--P1": {"HVP_PackTempMax": 31.5}, "TEPOD--1--P2": {"HVP_PackTempMax": None}}
    ),
    "pw3 packs without readings": _vitals_with({"TEPOD--1--P1": {"HVP_PackTempMax": None}}),
    "device alerts": _vitals_with({"TESYNC--1--S": {"alerts": ["SYNC_a1", "SYNC_a2"]}}),
    "thermal controller with state": _vitals_with(
        {"TETHC--9--SN9": {"THC_State": "THC_STATE_OK", "THC_AmbientTemp": 21.25}}
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_derivations_match_the_library(case: str) -> None:
    assert_same_as_library(*CASES[case])


@pytest.mark.parametrize(
    ("name", "polls", "vitals"),
    [
        ("strings()", {}, None),
        ("strings()", {"/api/solar_powerwall": {}}, {}),
        ("temps()", {}, None),
        ("alerts()", {"/api/system_status/grid_status": {"grid_status": "X"}}, None),
        ("alerts()", {"/api/solar_powerwall": {}}, {}),
    ],
)
def test_missing_sources_give_none_not_empty(name: str, polls: dict[str, Any], vitals: Any) -> None:
    assert _ours(polls, vitals, name) is None


def test_battery_blocks_skip_blocks_that_are_not_objects() -> None:
    """The library raised (AttributeError) on such a block; we keep the readable ones."""
    calls = {
        "system_status()": {"battery_blocks": ["x", {"PackageSerialNumber": "S1", "p_out": 5}]}
    }
    assert make_view(calls).get("battery_blocks()") == {"S1": {"p_out": 5}}
