"""The benchmark suite's pure parts: wrk output, statistics, target verdicts, tables.
(The benchmark itself is never run by the tests.)"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the repo, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import report, stats, targets  # noqa: E402
from benchmarks.__main__ import parse_parts  # noqa: E402
from benchmarks.abuse import slow_summary  # noqa: E402
from benchmarks.abuse import summarize as summarize_abuse  # noqa: E402
from benchmarks.http_bench import HttpTarget, rotated, summarize  # noqa: E402
from benchmarks.procs import ProcSample, cpu_percent  # noqa: E402
from benchmarks.report import markdown_table  # noqa: E402
from benchmarks.scale import largest_on_schedule, schedule_summary  # noqa: E402
from benchmarks.simproc import parse_ready  # noqa: E402
from benchmarks.wrk import WrkOutputError, parse_wrk  # noqa: E402

WRK_OK = """Running 10s test @ http://127.0.0.1:8675/aggregates
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms  310.12us   9.87ms   91.02%
    Req/Sec    10.61k   512.33    11.20k    80.00%
  Latency Distribution
     50%    1.47ms
     75%    1.60ms
     90%    1.81ms
     99%    2.65ms
  105603 requests in 10.00s, 320.12MB read
Requests/sec:  10559.35
Transfer/sec:     32.01MB
"""

WRK_ERRORS = """Running 2s test @ http://127.0.0.1:9/vitals
  1 threads and 64 connections
  Latency Distribution
     50%  812.00us
     75%    1.20s
     90%    1.50s
     99%    2.10s
  1200 requests in 2.00s, 1.00MB read
  Socket errors: connect 0, read 3, write 1, timeout 7
  Non-2xx or 3xx responses: 42
Requests/sec:    600.00
Transfer/sec:    512.00KB
"""


def test_parse_wrk_reads_throughput_and_percentiles() -> None:
    result = parse_wrk(WRK_OK)
    assert result.requests_per_s == 10559.35
    assert result.p50_ms == pytest.approx(1.47)
    assert result.p99_ms == pytest.approx(2.65)
    assert (result.requests, result.non_2xx, result.socket_errors) == (105603, 0, 0)


def test_parse_wrk_converts_units_and_counts_errors() -> None:
    result = parse_wrk(WRK_ERRORS)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == pytest.approx(2100.0)
    assert result.non_2xx == 42
    assert result.socket_errors == 11


@pytest.mark.parametrize(
    "text",
    ["", "unable to connect to 127.0.0.1:9 Connection refused", WRK_OK.replace("99%", "98%")],
)
def test_parse_wrk_refuses_incomplete_output(text: str) -> None:
    with pytest.raises(WrkOutputError):
        parse_wrk(text)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([3.0], 99, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
        ([4.0, 1.0, 3.0, 2.0], 100, 4.0),
        (list(map(float, range(101))), 99, 99.0),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert stats.percentile(values, q) == expected


@pytest.mark.parametrize(
    ("ours", "other", "expected"),
    [(10.0, 2.0, 5.0), (1.0, 0.0, None), (None, 2.0, None), (3.0, None, None)],
)
def test_ratio(ours: float | None, other: float | None, expected: float | None) -> None:
    assert stats.ratio(ours, other) == expected


def test_intervals_ignore_repeated_samples_of_one_poll() -> None:
    assert stats.intervals([10.0, 15.0, 15.0, 21.0, 10.0]) == [5.0, 6.0]


def test_diff_counts_and_per_minute() -> None:
    grown = stats.diff_counts({"/a": 2, "/b": 5}, {"/a": 5, "/b": 5, "/c": 1})
    assert grown == {"/a": 3, "/c": 1}
    assert stats.per_minute(grown, 30.0) == {"/a": 6.0, "/c": 2.0}
    assert stats.per_minute(grown, 0.0) == {}


@pytest.mark.parametrize(
    ("ours_total", "control_total", "added"),
    [
        (100, 100, False),
        (102, 100, False),  # two polls' worth of phase shift (1 request per poll at 12/min)
        (103, 100, True),
        (90, 100, False),
    ],
)
def test_load_added_compares_with_the_control(
    ours_total: int, control_total: int, added: bool
) -> None:
    ours, control = {"total": ours_total}, {"total": control_total}
    assert targets.load_added(ours, control, idle_rpm=12.0, interval=5.0) is added


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([True, None], targets.PASS),
        ([True, False], targets.FAIL),
        ([None, None], targets.NA),
        ([], targets.NA),
    ],
)
def test_verdict(checks: list[bool | None], expected: str) -> None:
    assert targets.verdict(checks) == expected


def test_schedule_counts_late_open_gap_and_never_polled() -> None:
    polls = {"gw1": {0.0, 5.0, 10.0}, "gw2": {0.0, 5.0}, "gw3": set()}
    summary = schedule_summary(polls, 3, window_end=14.0, interval=5.0)
    assert summary["gateways_without_poll"] == 1
    assert summary["intervals"] == 4  # 3 gaps + gw2's open gap of 9 s (late)
    assert summary["interval_p99_s"] == pytest.approx(8.88)
    assert summary["on_schedule"] is False


def test_schedule_on_time() -> None:
    polls = {"gw1": {0.0, 5.1, 10.0}, "gw2": {1.0, 6.0, 11.2}}
    summary = schedule_summary(polls, 2, window_end=12.0, interval=5.0)
    assert summary["on_schedule"] is True
    assert summary["interval_median_s"] == pytest.approx(5.05)  # of 5.1, 4.9, 5.0, 5.2


def test_largest_on_schedule_stops_at_first_miss() -> None:
    runs = [
        {"gateways": 10, "on_schedule": True},
        {"gateways": 1, "on_schedule": True},
        {"gateways": 100, "on_schedule": False},
        {"gateways": 500, "on_schedule": True},
    ]
    assert largest_on_schedule(runs) == 10


def _cell(rps: float, p99: float) -> dict[str, Any]:
    return {"median": {"requests_per_s": rps, "p50_ms": 1.0, "p99_ms": p99, "cpu_percent": 90}}


def test_throughput_row_compares_with_floor_and_peer() -> None:
    results = {
        "http": {
            "targets": {
                "ours": {"/aggregates c16": {**_cell(9000.0, 3.0), "errors": 0}},
                "floor": {"/aggregates c16": _cell(10000.0, 2.0)},
                "peer": {"/aggregates c16": _cell(500.0, 40.0)},
            }
        }
    }
    row = targets.throughput_row(results, "/aggregates", (16,))
    assert row.result == targets.PASS  # 0.9 x floor, 18 x peer
    assert "0.90x floor" in row.measured and "18.00x peer" in row.measured
    results["http"]["targets"]["peer"]["/aggregates c16"] = _cell(1000.0, 40.0)
    assert targets.throughput_row(results, "/aggregates", (16,)).result == targets.FAIL


def test_throughput_row_fails_on_error_answers() -> None:
    ours = {**_cell(9000.0, 3.0), "errors": 12}
    results = {
        "http": {"targets": {"ours": {"/csv c16": ours}, "floor": {"/csv c16": _cell(9e3, 3)}}}
    }
    row = targets.throughput_row(results, "/csv", (16,))
    assert row.result == targets.FAIL
    assert "12 errors" in row.measured


def test_p99_row_against_floor() -> None:
    paths = ("/csv",)
    results = {
        "http": {
            "targets": {"ours": {"/csv c64": _cell(1.0, 31.0)}, "floor": {"/csv c64": _cell(1, 10)}}
        }
    }
    assert targets.p99_row(results, paths).result == targets.FAIL
    results["http"]["targets"]["ours"]["/csv c64"] = _cell(1.0, 29.0)
    assert targets.p99_row(results, paths).result == targets.PASS


def test_evaluate_without_measurements_says_na() -> None:
    rows = targets.evaluate({})
    assert len(rows) == 14  # one per target, MQTT, abuse and failover included
    assert {r.result for r in rows} == {targets.NA}


@pytest.mark.parametrize(
    ("ratios", "result"),
    [
        ({"/aggregates c16": 0.99, "/aggregates c64": 1.02}, targets.PASS),
        ({"a c1": 1.0, "a c16": 0.98, "a c64": 0.90}, targets.PASS),  # mean 0.959
        ({"/aggregates c16": 0.97, "/aggregates c64": 0.91}, targets.FAIL),  # mean 0.940
    ],
)
def test_mqtt_row_compares_on_with_off(ratios: dict[str, float], result: str) -> None:
    row = targets.mqtt_row({"mqtt": {"ratio_on_off": ratios}})
    assert row.result == result


@pytest.mark.parametrize(
    ("run", "ok"),
    [
        (
            {
                "clients": 5000,
                "connected": 5000,
                "delay_ms_data_p99": 80.0,
                "bytes_per_client_per_s": 2000.0,
                "errors": {},
            },
            True,
        ),
        (
            {
                "clients": 5000,
                "connected": 4990,
                "delay_ms_data_p99": 80.0,
                "bytes_per_client_per_s": 2000.0,
                "errors": {},
            },
            False,
        ),
        (
            {
                "clients": 5000,
                "connected": 5000,
                "delay_ms_data_p99": 120.0,
                "bytes_per_client_per_s": 2000.0,
                "errors": {},
            },
            False,
        ),
        (
            {
                "clients": 5000,
                "connected": 5000,
                "delay_ms_data_p99": 80.0,
                "bytes_per_client_per_s": 2500.0,
                "errors": {},
            },
            False,
        ),
    ],
)
def test_ws_ok(run: dict[str, Any], ok: bool) -> None:
    assert targets.ws_ok(run) is ok


def test_markdown_table_pads_columns() -> None:
    text = markdown_table(("A", "Long header"), [("x", "1"), ("yyyy", "22")])
    assert text.splitlines() == [
        "| A    | Long header |",
        "|------|-------------|",
        "| x    | 1           |",
        "| yyyy | 22          |",
    ]


def test_parse_ready_reads_simulator_banner() -> None:
    banner = (
        "Simulating 1 gateway(s); Ctrl-C to stop.\n"
        "Admin API: http://127.0.0.1:4000\n"
        "Admin token: tok\n\n# Environment:\n"
        'PW_GATEWAYS=\'[{"id":"gw1","host":"127.0.0.1:4001","gw_pwd":"ABCDEFGHIJ"}]\'\n'
    )
    url, token, gateways = parse_ready(banner)
    assert (url, token) == ("http://127.0.0.1:4000", "tok")
    assert [(g.id, g.host, g.gw_pwd) for g in gateways] == [("gw1", "127.0.0.1:4001", "ABCDEFGHIJ")]
    with pytest.raises(ValueError):
        parse_ready(banner.split("PW_GATEWAYS")[0])


@pytest.mark.parametrize(
    ("only", "peer", "expected"),
    [
        ("http", False, {"http"}),
        ("scale,ws", True, {"scale", "ws", "peer"}),
        (
            None,
            False,
            {
                "http",
                "floor",
                "gateway-load",
                "scale",
                "footprint",
                "ws",
                "mqtt",
                "abuse",
                "failover",
            },
        ),
    ],
)
def test_parse_parts(only: str | None, peer: bool, expected: set[str]) -> None:
    assert parse_parts(only, peer) == expected


def test_parse_parts_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="nope"):
        parse_parts("http,nope", False)


def _load(rpm: float, seconds: float) -> dict[str, Any]:
    count = round(rpm * seconds / 60.0)
    return {
        "seconds": seconds,
        "counts": {"/tedapi/v1": count},
        "total": count,
        "per_minute": {"/tedapi/v1": rpm},
        "total_per_minute": rpm,
    }


def test_evaluate_and_report_a_whole_results_dict() -> None:
    """The keys the suite writes are the keys targets and report read."""
    results: dict[str, Any] = {
        "meta": {
            "command": "python -m benchmarks --quick",
            "mode": "quick",
            "machine": {"date_utc": "2026-11-24 02:00 UTC", "cpus": 2, "cpu_model": "x"},
        },
        "start_to_first_data_s": {"ours": 0.5, "peer": 0.7},
        "gateway_load": {
            "interval_s": 5.0,
            "idle": {"ours": _load(12.0, 60.0), "peer": _load(30.0, 60.0)},
            "client_load": {
                "ours": _load(12.3, 400.0),
                "control": _load(12.2, 400.0),
                "peer": _load(41.0, 400.0),
            },
        },
        "footprint": {"ours": {"rss_mib": 60.0, "idle_seconds": 60.0}},
        "http": {"targets": {"ours": {"/aggregates c16": {**_cell(9e3, 2.0), "errors": 0}}}},
        "scale": {
            "interval_s": 5.0,
            "largest_on_schedule": 500,
            "runs": [
                {
                    "gateways": 500,
                    "first_polls_s": 60.0,
                    "interval_median_s": 5.0,
                    "interval_p99_s": 6.0,
                    "gateways_without_poll": 0,
                    "cpu_percent": 70.0,
                    "rss_mib": 900.0,
                    "threads": 70,
                    "simulator_cpu_percent": 40.0,
                    "on_schedule": True,
                }
            ],
        },
        "ws": {"implemented": False, "note": "not implemented"},
    }
    rows = {r.target: r.result for r in targets.evaluate(results)}
    assert rows["gateway requests/min, TEDAPI, 5 s, idle"] == targets.PASS
    assert rows["gateway requests/min under client load"] == targets.PASS
    assert rows["gateways on schedule, 100 ms latency"] == targets.PASS
    assert rows["RSS, 1 gateway, idle"] == targets.PASS
    assert rows["start to first data"] == targets.PASS
    assert rows["WebSocket clients"] == targets.NA
    text = report.full_report(results, targets.evaluate(results))
    assert "| 500 " in text and "python -m benchmarks --quick" in text


def _abuse_round(p99_ms: float, rss_mib: float, closed: int, latest_s: float) -> dict[str, Any]:
    slow = [
        {
            "connected": True,
            "closed_by_server": True,
            "closed_after_s": latest_s,
            "status": "HTTP/1.1 408 Request Timeout",
            "lines": 10,
        }
    ] * closed
    slow += [
        {"connected": True, "closed_by_server": False, "closed_after_s": None, "status": ""}
    ] * (3000 - closed)
    quiet = {"p99_ms": 4.0, "non_2xx": 0, "socket_errors": 0}
    return {
        "quiet": quiet,
        "under_abuse": {**quiet, "p99_ms": p99_ms},
        "p99_ratio": p99_ms / 4.0,
        "rss_growth_peak_mib": rss_mib,
        "slow": slow_summary(slow),
    }


def _abuse_run(p99_ms: float, rss_mib: float, closed: int, latest_s: float) -> dict[str, Any]:
    """Three rounds: the one given between a better and a worse one (the median)."""
    return summarize_abuse(
        [
            _abuse_round(4.0, 1.0, 3000, 10.1),
            _abuse_round(p99_ms, rss_mib, closed, latest_s),
            _abuse_round(40.0, 1.0, 3000, 10.1),
        ]
    )


@pytest.mark.parametrize(
    ("run", "result"),
    [
        (_abuse_run(11.0, 19.0, 3000, 10.6), targets.PASS),
        (_abuse_run(13.0, 19.0, 3000, 10.6), targets.FAIL),  # p99 > 3x quiet
        (_abuse_run(11.0, 21.0, 3000, 10.6), targets.FAIL),  # memory
        (_abuse_run(11.0, 19.0, 2999, 10.6), targets.FAIL),  # one slow connection left open
        (_abuse_run(11.0, 19.0, 3000, 11.5), targets.FAIL),  # closed too late
    ],
)
def test_abuse_row(run: dict[str, Any], result: str) -> None:
    row = targets.abuse_row({"abuse": run})
    assert row.result == result
    assert "slow closed" in row.measured


def test_abuse_row_names_the_core_split_and_reports_the_shared_round_unjudged() -> None:
    run = _abuse_run(11.0, 19.0, 3000, 10.6)
    run["cores"] = {"server_and_wrk": [1], "attacker_and_gateway": [0]}
    run["shared_cores_round"] = _abuse_round(40.0, 1.0, 3000, 10.1)  # 10x, not judged
    row = targets.abuse_row({"abuse": run})
    assert row.result == targets.PASS
    assert "server and wrk on core 1, the attack on 0" in row.measured
    assert "every process on every core: 10.00x" in row.measured


def test_slow_summary_counts_answers() -> None:
    summary = slow_summary(
        [
            {"connected": True, "closed_by_server": True, "closed_after_s": 10.2, "status": ""},
            {
                "connected": True,
                "closed_by_server": True,
                "closed_after_s": 10.1,
                "status": "HTTP/1.1 408 Request Timeout",
            },
            {"connected": False, "error": "ConnectionRefusedError"},
        ]
    )
    assert summary["connected"] == 2 and summary["closed_after_s_max"] == 10.2
    assert summary["answers"] == {
        "(closed without an answer)": 1,
        "HTTP/1.1 408 Request Timeout": 1,
    }


def test_rounds_rotate_the_order_of_servers() -> None:
    servers = [HttpTarget(name, "", 0) for name in ("ours", "floor", "peer")]
    orders = [[t.name for t in rotated(servers, r)] for r in range(3)]
    assert orders == [
        ["ours", "floor", "peer"],
        ["floor", "peer", "ours"],
        ["peer", "ours", "floor"],
    ]


def test_summarize_takes_medians_over_rounds() -> None:
    rounds = [
        {
            "requests_per_s": r,
            "p50_ms": 1.0,
            "p99_ms": p,
            "cpu_percent": 90.0,
            "non_2xx": e,
            "socket_errors": 0,
        }
        for r, p, e in ((100.0, 9.0, 0), (300.0, 3.0, 1), (200.0, 5.0, 0))
    ]
    cell = summarize({"/csv c16": rounds})["/csv c16"]
    assert cell["median"]["requests_per_s"] == 200.0
    assert cell["median"]["p99_ms"] == 5.0
    assert cell["errors"] == 1
    assert len(cell["rounds"]) == 3


@pytest.mark.parametrize(
    ("cpu_before", "cpu_after", "wall", "expected"),
    [(1.0, 1.5, 1.0, 50.0), (0.0, 3.0, 2.0, 150.0), (2.0, 2.0, 0.0, 0.0)],
)
def test_cpu_percent(cpu_before: float, cpu_after: float, wall: float, expected: float) -> None:
    before = ProcSample(10.0, cpu_before, 0, 1)
    after = ProcSample(10.0 + wall, cpu_after, 0, 1)
    assert cpu_percent(before, after) == pytest.approx(expected)


def _ws_run(clients: int, delay: float) -> dict[str, Any]:
    return {
        "clients": clients,
        "connected": clients,
        "delay_ms_data_p99": delay,
        "bytes_per_client_per_s": 150.0,
        "errors": {},
    }


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([_ws_run(1000, 50.0)], targets.NA),  # quick mode: the goal's 5,000 not measured
        ([_ws_run(1000, 108.0)], targets.FAIL),
        ([_ws_run(1000, 50.0), _ws_run(5000, 90.0)], targets.PASS),
        ([_ws_run(1000, 50.0), _ws_run(5000, 130.0)], targets.FAIL),
    ],
)
def test_ws_row(runs: list[dict[str, Any]], expected: str) -> None:
    results = {"ws": {"implemented": True, "runs": runs}}
    assert targets.ws_row(results).result == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ({"ours": 0.6}, "PASS"),  # under the absolute figure, no peer needed
        ({"ours": 0.9}, "FAIL"),
        ({"ours": 0.9, "peer": 1.4}, "PASS"),  # faster than upstream in the same run
        ({"ours": 1.5, "peer": 1.4}, "FAIL"),
        ({}, "n/a"),
    ],
)
def test_first_data_goal_is_absolute_or_parity_with_the_peer(
    start: dict[str, float], expected: str
) -> None:
    row = targets.first_data_row({"start_to_first_data_s": start})
    assert row.result == expected
    if "peer" in start:
        assert "x peer" in row.measured


def test_a_target_limited_to_some_connections_skips_the_others() -> None:
    peer = HttpTarget("peer", "http://127.0.0.1:1", 1, connections=(16, 64))
    assert peer.runs(16) and peer.runs(64) and not peer.runs(1)
    assert HttpTarget("ours", "http://127.0.0.1:1", 1).runs(1)


def _failover_run(during_p99: float, after_threads: int, back: float | None) -> dict[str, Any]:
    api = {"n": 100, "p50_ms": 0.6}
    return {
        "gateways": 10,
        "fault_seconds": 20.0,
        "faults_set": 20,
        "failovers": 7,
        "on_fallback_when_faults_stopped": 3,
        "all_back_on_tedapi": back is not None,
        "all_back_on_tedapi_after_s": back,
        "threads": {
            "before": 40,
            "max_during": 45,
            "after": after_threads,
            "bound": 50,
            "settled": True,
        },
        "api_before": {**api, "p99_ms": 4.0},
        "api_during": {**api, "p99_ms": during_p99},
        "api_after": {**api, "p99_ms": 3.0},
    }


@pytest.mark.parametrize(
    ("run", "result"),
    [
        (_failover_run(8.9, 45, 30.0), targets.PASS),  # within 5 ms of the quiet p99
        (_failover_run(9.1, 45, 30.0), targets.FAIL),  # > 2 x and > quiet + 5 ms
        (_failover_run(5.0, 51, 30.0), targets.FAIL),  # more threads than one per gateway
        (_failover_run(5.0, 45, None), targets.FAIL),  # a gateway never came back
    ],
)
def test_failover_row(run: dict[str, Any], result: str) -> None:
    assert targets.failover_row({"failover": run}).result == result
    table = report.failover_table({"failover": run})
    assert "during faults" in table and "(bound 50)" in table
