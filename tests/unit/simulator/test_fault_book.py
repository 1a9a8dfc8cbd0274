"""Fault descriptions and the per-gateway fault book: scoping by path, count and duration."""

from __future__ import annotations

import pytest

from pypowerwall_server.simulator.faults import Fault, FaultBook, FaultError, fault_from_json


@pytest.mark.parametrize(
    ("fault", "path", "matches"),
    [
        (Fault("hang"), "/anything", True),
        (Fault("hang", path="/api/*"), "/api/meters/aggregates", True),
        (Fault("hang", path="/api/meters"), "/api/meters/aggregates", False),
        (Fault("hang", path="/tedapi/v?"), "/tedapi/v1", True),
        (Fault("hang", path_regex="aggregates$"), "/api/meters/aggregates", True),
        (Fault("hang", path_regex="^/tedapi"), "/api/tedapi", False),
        (Fault("hang", path="/api/*", path_regex="soe"), "/api/system_status/soe", True),
        (Fault("hang", path="/api/*", path_regex="soe"), "/api/status", False),
    ],
)
def test_path_scope(fault: Fault, path: str, matches: bool) -> None:
    assert fault.matches(path) is matches


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "hang"}, Fault("hang")),
        ({"kind": "latency", "latency_ms": 250}, Fault("latency", latency_ms=250)),
        ({"kind": "status", "status": 429, "count": 2}, Fault("status", status=429, count=2)),
        ({"kind": "refused", "duration": 1.5}, Fault("refused", duration=1.5)),
        ({"kind": "firmware", "version": "23.36.1"}, Fault("firmware", version="23.36.1")),
        ({"kind": "missing_powerwall", "index": 1}, Fault("missing_powerwall", index=1)),
    ],
)
def test_fault_from_json_accepts(data: dict[str, object], expected: Fault) -> None:
    assert fault_from_json(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        "hang",
        {"kind": "volcano"},
        {"kind": "hang", "count": 1.5},
        {"kind": "hang", "count": True},
        {"kind": "hang", "duration": 0},
        {"kind": "hang", "duration": "5"},
        {"kind": "latency", "latency_ms": 0},
        {"kind": "status", "status": "503"},
        {"kind": "missing_powerwall", "index": -1},
        {"kind": "firmware"},
        {"kind": "refused", "path": "/a", "duration": 1},
        {"kind": "tls_failure", "path_regex": "a"},
    ],
)
def test_fault_from_json_rejects(data: object) -> None:
    with pytest.raises(FaultError):
        fault_from_json(data)


def test_latencies_add_up_and_the_oldest_response_fault_wins() -> None:
    book = FaultBook()
    book.add(Fault("latency", latency_ms=100), 0.0)
    book.add(Fault("latency", latency_ms=50, path="/a"), 0.0)
    first, _ = book.add(Fault("status", status=503, count=1), 0.0)
    second, _ = book.add(Fault("garbage", count=1), 0.0)
    plan = book.plan("/a")
    assert plan.latency_s == pytest.approx(0.15)
    assert plan.action is first
    assert plan.spent == [first]
    assert book.plan("/b").action is second  # kept its count while the first was chosen
    assert book.plan("/b").action is None


def test_count_is_used_only_by_matching_requests() -> None:
    book = FaultBook()
    active, _ = book.add(Fault("status", path="/x", count=2), 0.0)
    book.plan("/y")
    assert active.remaining == 2
    book.plan("/x")
    assert active.remaining == 1
    assert book.plan("/x").spent == [active]
    assert book.active() == []


def test_tls_failure_counts_connections_and_ignores_paths() -> None:
    book = FaultBook()
    book.add(Fault("tls_failure", count=2), 0.0)
    assert book.plan("/a").action is None
    assert [book.take_tls_failure() for _ in range(3)] == [True, True, False]


def test_exclusive_kinds_replace_each_other_and_others_stack() -> None:
    book = FaultBook()
    old, _ = book.add(Fault("firmware", version="1"), 0.0)
    new, replaced = book.add(Fault("firmware", version="2"), 0.0)
    assert replaced is old
    book.add(Fault("hang"), 0.0)
    _, none_replaced = book.add(Fault("hang"), 0.0)
    assert none_replaced is None
    assert [a.fault.kind for a in book.active()] == ["firmware", "hang", "hang"]
    assert book.of_kind("firmware") is new


def test_to_json_reports_remaining_and_expiry() -> None:
    book = FaultBook()
    active, _ = book.add(Fault("status", status=500, count=3, duration=5.0), 100.0)
    body = active.to_json(now=102.0)
    assert (body["id"], body["kind"], body["remaining"], body["expires_in"]) == (
        1,
        "status",
        3,
        3.0,
    )


@pytest.mark.parametrize(
    ("fault", "own", "absent"),
    [
        (Fault("latency", latency_ms=5), "latency_ms", {"status", "index", "version"}),
        (Fault("status", status=429), "status", {"latency_ms", "index", "version"}),
        (Fault("hang"), None, {"latency_ms", "status", "index", "version"}),
    ],
)
def test_to_json_shows_only_the_fields_of_its_kind(
    fault: Fault, own: str | None, absent: set[str]
) -> None:
    body = fault.to_json()
    assert {"kind", "path", "path_regex", "count", "duration"} <= set(body)
    assert own is None or own in body
    assert not absent & set(body)
