"""History benchmark: `python -m benchmarks.history_bench [--rounds N] [--seconds S]`.

Four figures, each a ratio or a percentile measured in this one run:
- hot GETs (/aggregates, wrk) of a server with history on over one with it off, polling the
  same simulated gateway every second, alternated round by round;
- 500 gateways: CPU (every thread of the process) that ingestion and the writer spend per
  reading, as a share of one core at 100 readings/s (500 gateways every 5 s), and the
  longest ingestion call on the event loop (what a poll's publish could wait);
- a year of daily buckets and a day of 1-minute power through the HTTP routes (p99);
- bytes of one gateway-year: a year of 1-minute power, hourly power and energy and
  5-minute temperatures of two batteries written into a fresh file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from benchmarks import stats
from benchmarks.procs import Children
from benchmarks.servers import REPO, clean_env, wait_first_data
from benchmarks.simproc import start_simulator
from benchmarks.wrk import run_wrk
from pypowerwall_server.history.counters import CHANNELS
from pypowerwall_server.history.ingest import Ingestor
from pypowerwall_server.history.samples import Sample
from pypowerwall_server.history.store import HistoryStore

ZONE = ZoneInfo("America/Los_Angeles")
PORTS = (25100, 25101)  # history on, off
GATEWAYS = 500
READINGS_PER_S = GATEWAYS / 5.0
_MARKS = ", ".join("?" * 18)


def hot_ratio(work: Path, rounds: int, seconds: int) -> dict[str, Any]:
    with Children(work) as children:
        sim = start_simulator(children, 1)
        gateway = sim.gateways[0]
        rates: dict[str, list[float]] = {"on": [], "off": []}
        bases = {}
        for name, port, history in (("on", PORTS[0], True), ("off", PORTS[1], False)):
            config = {
                "server": {
                    "bind_address": "127.0.0.1",
                    "port": port,
                    "history": history,
                    "data_dir": str(work / f"data-{name}"),
                },
                "gateways": [
                    {
                        "id": gateway.id,
                        "host": gateway.host,
                        "gw_pwd": gateway.gw_pwd,
                        "poll_interval": 1.0,
                    }
                ],
            }
            path = work / f"{name}.yaml"
            path.write_text(yaml.safe_dump(config))
            argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(path)]
            child = children.start(name, argv, env=clean_env(), cwd=REPO)
            bases[name] = f"http://127.0.0.1:{port}"
            wait_first_data(child, bases[name])
        for _ in range(rounds):
            for name in ("on", "off"):
                rates[name].append(run_wrk(bases[name] + "/aggregates", 16, seconds).requests_per_s)
    return {
        "requests_per_s": rates,
        "ratio_on_over_off": stats.ratio(stats.median(rates["on"]), stats.median(rates["off"])),
    }


def ingest_cost(work: Path, seconds: float) -> dict[str, Any]:
    """Readings of 500 gateways at their real pace (100/s) for `seconds`: the process's CPU
    (ingestion on this thread, the writer on its own) over the wall time, and how long
    each ingestion call held this thread (the event loop's, in the server)."""
    store = HistoryStore(work / "ingest", batch_seconds=1.0)
    store.start()
    zones = {f"gw{i}": ZONE for i in range(GATEWAYS)}
    ingestor = Ingestor(store.write, zones)
    rng = random.Random(1)
    counters = {gid: dict.fromkeys(CHANNELS, 1e6) for gid in zones}
    t0 = datetime(2026, 6, 1, tzinfo=ZONE).timestamp()
    calls: list[float] = []
    total = int(seconds * READINGS_PER_S)
    cpu, wall = time.process_time(), time.monotonic()
    for n in range(total):
        gid = f"gw{n % GATEWAYS}"
        values = counters[gid]
        for channel in values:
            values[channel] += rng.uniform(0, 5)
        sample = Sample(
            gid,
            t0 + 5 * (n // GATEWAYS),
            dict(values),
            500.0,
            2000.0,
            -300.0,
            1200.0,
            80.0,
            True,
            {"battery1": 25.0},
        )
        pause = wall + n / READINGS_PER_S - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        started = time.perf_counter()
        ingestor.observe(sample)
        calls.append(time.perf_counter() - started)
    assert store.flush(600)
    used, elapsed = time.process_time() - cpu, time.monotonic() - wall
    store.close()
    return {
        "readings": total,
        "seconds": elapsed,
        "core_share_pct": used / elapsed * 100,
        "cpu_us_per_reading": used / total * 1e6,
        "loop_call_p99_us": (stats.percentile(calls, 99) or 0) * 1e6,
        "loop_call_max_us": max(calls) * 1e6,
    }


def fill_year(folder: Path) -> date:
    """A gateway-year at 10-minute readings, then its last day at 1-minute readings."""
    store = HistoryStore(folder, batch_seconds=0.2)
    store.start()
    ingestor = Ingestor(store.write, {"home": ZONE})
    start = datetime(2026, 1, 1, tzinfo=ZONE).timestamp()
    last_day = datetime(2026, 12, 31, tzinfo=ZONE).timestamp()
    values = dict.fromkeys(CHANNELS, 1e6)
    t = start
    while t < last_day + 86400:
        step = 600 if t < last_day else 60
        t += step
        for channel in values:
            values[channel] += step / 60
        ingestor.observe(Sample("home", t, dict(values), 100.0, 50.0, 0.0, 150.0, 50.0, True))
    assert store.flush(600)
    store.close()
    return date(2026, 12, 31)


def query_latency(work: Path, repeats: int) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from pypowerwall_server.app import create_app
    from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings

    folder = work / "year"
    day = fill_year(folder)
    gateway = GatewayConfig.model_validate(
        {"id": "home", "name": "home", "host": "127.0.0.1:9", "gw_pwd": "x", "timezone": str(ZONE)}
    )
    server = ServerConfig(bind_address="127.0.0.1", data_dir=str(folder))
    results: dict[str, Any] = {}
    with TestClient(create_app(Settings(server=server, gateways=(gateway,)))) as client:
        asks = {
            "year_of_days": (
                "/api/history/energy",
                {"period": "year", "date": str(day), "gateway": "home"},
            ),
            "day_of_minutes": (
                "/api/history/power",
                {"start": str(day), "end": str(day + timedelta(days=1)), "gateway": "home"},
            ),
        }
        for name, (path, params) in asks.items():
            times, cpu = [], []
            for _ in range(repeats):
                started, cpu_started = time.perf_counter(), time.process_time()
                answer = client.get(path, params=params)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                assert answer.status_code == 200, answer.text
            results[f"{name}_p99_ms"] = (stats.percentile(times, 99) or 0) * 1000
            results[f"{name}_median_ms"] = (stats.median(times) or 0) * 1000
            results[f"{name}_cpu_p99_ms"] = (stats.percentile(cpu, 99) or 0) * 1000
        points = len(
            client.get(*asks["day_of_minutes"][:1], params=asks["day_of_minutes"][1]).json()[
                "points"
            ]
        )
        results["day_of_minutes_points"] = points
    return results


def bytes_per_gateway_year(work: Path) -> dict[str, Any]:
    store = HistoryStore(work / "size", batch_seconds=0.1)
    store.start()
    store.close()
    conn = sqlite3.connect(store.path, isolation_level=None)
    rng = random.Random(2)
    start = int(datetime(2026, 1, 1, tzinfo=ZONE).timestamp())

    def power_row(t: int) -> tuple[Any, ...]:
        power = (round(rng.uniform(-5000, 5000)) for _ in range(12))  # stored as whole W
        soe = (round(rng.uniform(0, 100), 1) for _ in range(3))
        return ("home", t, *power, *soe, "up")

    conn.execute("BEGIN")
    minutes = range(start, start + 365 * 86400, 60)
    conn.executemany(f"INSERT INTO power_minute VALUES ({_MARKS})", map(power_row, minutes))
    hours = range(start, start + 365 * 86400, 3600)
    conn.executemany(f"INSERT INTO power_hour VALUES ({_MARKS})", map(power_row, hours))
    conn.executemany(
        "INSERT INTO energy_hour VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        (("home", t, *(rng.uniform(0, 3000) for _ in CHANNELS)) for t in hours),
    )
    conn.executemany(
        "INSERT INTO temperature_5min VALUES (?, ?, ?, ?)",
        (
            ("home", t, f"battery{b}", rng.uniform(15, 35))
            for t in range(start, start + 365 * 86400, 300)
            for b in (1, 2)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.path.stat().st_size
    conn.execute("VACUUM")
    conn.close()
    return {
        "bytes": size,
        "mib": size / 2**20,
        "mib_after_vacuum": store.path.stat().st_size / 2**20,
        "minute_rows": len(minutes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history_bench")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per server")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk round")
    parser.add_argument("--ingest-seconds", type=float, default=20, help="500 gateways' pace")
    parser.add_argument("--repeats", type=int, default=200, help="requests per query")
    parser.add_argument("--only", default="hot,ingest,query,size")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        work = Path(tmp)
        if "size" in parts:
            report["size"] = bytes_per_gateway_year(work)
        if "ingest" in parts:
            report["ingest"] = ingest_cost(work, args.ingest_seconds)
        if "query" in parts:
            report["query"] = query_latency(work, args.repeats)
        if "hot" in parts:
            report["hot"] = hot_ratio(work, args.rounds, args.seconds)
    report["load_average"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
