"""Failover under random faults (ordered transports): G simulated gateways, each read as
[tedapi, fleetapi] by our server; for a while, random TEDAPI faults (refused, hang, 503,
TLS failure) come and go on random gateways. Measured: the server's thread count before,
during and after; API latency (GET /api/gateways and /aggregates, sequential) before and
during the faults; failovers; how long until every gateway is back on TEDAPI after the
faults stop.

Threads: each transport of a gateway gets its own thread on first use (the fallback's at
its first failover), and a hung call keeps only that one; so the count may grow by at most
one per gateway and must then stay put: reported as the bound and as `settled`.

Part `failover` of `python -m benchmarks` (--quick: 10 gateways, 20 s of faults), or alone:
python -m benchmarks.failover [--gateways 50] [--seconds 60] [--work DIR]
The simulator and the server run as child processes on loopback; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks import stats
from benchmarks.procs import Child, Children, ReadyTimeout, free_port, http_get, sample, wait_until
from benchmarks.servers import REPO, clean_env
from benchmarks.simproc import Simulator, start_simulator

INTERVAL_S = 5.0
TIMEOUT_S = 2.0
RECOVERY_PROBE_S = 5.0
FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "refused"},
    {"kind": "hang"},
    {"kind": "status", "status": 503},
    {"kind": "tls_failure"},
)
FAULT_SECONDS = (5.0, 30.0)  # each fault lasts a random time in this range
BACK_BOUND_S = 600.0  # after the faults: every gateway back on tedapi within this


@dataclass(frozen=True)
class Size:
    gateways: int
    seconds: float  # of random faults


QUICK, FULL = Size(10, 20.0), Size(50, 60.0)


def write_setup(sim: Simulator, work: Path, port: int) -> tuple[Path, Path]:
    """(server config, CA bundle): each gateway [tedapi, fleetapi] with its own
    .pypowerwall.fleetapi; the bundle trusts the simulator's CA besides the system's."""
    fleet = sim.fleetapi()
    bundle = work / "ca-bundle.pem"
    base = os.environ.get("REQUESTS_CA_BUNDLE", "")
    existing = Path(base).read_text() if base and Path(base).is_file() else ""
    bundle.write_text(existing + "\n" + fleet["ca_pem"])
    gateways = []
    for gw in sim.gateways:
        folder = work / "auth" / gw.id
        folder.mkdir(parents=True, exist_ok=True)
        fleet_config = sim.fleetapi_config(gw.id)
        (folder / ".pypowerwall.fleetapi").write_text(json.dumps(fleet_config))
        gateways.append(
            {
                "id": gw.id,
                "host": gw.host,
                "gw_pwd": gw.gw_pwd,
                "authpath": str(folder),
                "transports": ["tedapi", "fleetapi"],
                "poll_interval": INTERVAL_S,
                "timeout": TIMEOUT_S,
                "recovery_probe": RECOVERY_PROBE_S,
                "remote_interval": INTERVAL_S,
            }
        )
    config = work / "failover.yaml"
    server = {"host": "127.0.0.1", "port": port}
    config.write_text(yaml.safe_dump({"server": server, "gateways": gateways}, sort_keys=False))
    return config, bundle


def transports(base_url: str) -> dict[str, str | None]:
    status, body = http_get(base_url + "/api/gateways", timeout=5.0)
    if status != 200:
        return {}
    entries = json.loads(body)["gateways"]
    return {e["id"]: (e["transport"] or {}).get("active") if e["online"] else None for e in entries}


def failovers(base_url: str) -> int:
    _, body = http_get(base_url + "/api/gateways", timeout=5.0)
    return sum(e["transport"]["failovers"] for e in json.loads(body)["gateways"])


def latencies(base_url: str, seconds: float) -> list[float]:
    """Sequential GETs of two routes for `seconds`; latency of each, in seconds."""
    found: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path in ("/api/gateways", "/aggregates"):
            started = time.perf_counter()
            http_get(base_url + path, timeout=5.0)
            found.append(time.perf_counter() - started)
    return found


def summary(values: list[float]) -> dict[str, float | None]:
    p50, p99 = stats.percentile(values, 50), stats.percentile(values, 99)
    return {
        "n": len(values),
        "p50_ms": None if p50 is None else p50 * 1000,
        "p99_ms": None if p99 is None else p99 * 1000,
    }


def run(gateways: int, seconds: float, work: Path, seed: int) -> dict[str, Any]:
    with Children(work / "logs") as children:
        return run_failover(children, work, gateways, seconds, seed=seed)


def run_failover(
    children: Children,
    work: Path,
    gateways: int,
    seconds: float,
    say: Callable[[str], None] = print,
    seed: int = 13,
) -> dict[str, Any]:
    rng = random.Random(seed)
    sim = start_simulator(children, gateways, name="failover-simulator", extra=("--fleet-api",))
    port = free_port()
    config, bundle = write_setup(sim, work, port)
    env = {**clean_env(), "REQUESTS_CA_BUNDLE": str(bundle), "SSL_CERT_FILE": str(bundle)}
    argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(config)]
    server = children.start("failover-server", argv, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    on_tedapi = lambda: set(transports(base).values()) == {"tedapi"}  # noqa: E731
    wait_until(server, on_tedapi, 120, interval=0.5)
    time.sleep(2 * INTERVAL_S)
    threads_before = sample(server.pid).threads
    say(f"failover: {gateways} gateways on tedapi; {threads_before} threads; quiet API 10 s")
    before = latencies(base, 10)
    say(f"failover: random TEDAPI faults for {seconds:g} s")
    faults_set, threads_during, during = 0, [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        gw = rng.choice(sim.gateways)
        fault = {**rng.choice(FAULTS), "duration": rng.uniform(*FAULT_SECONDS)}
        if fault["kind"] == "tls_failure":  # drop kept-alive connections too
            refused = {"kind": "refused", "duration": 0.3}
            sim.set_fault(gw.id, refused)
        sim.set_fault(gw.id, fault)
        faults_set += 1
        during += latencies(base, 1.0)
        threads_during.append(sample(server.pid).threads)
    on_fallback_at_end = sum(1 for t in transports(base).values() if t != "tedapi")
    sim.clear_faults()
    say(f"failover: faults stopped, {on_fallback_at_end} on a fallback; waiting for tedapi")
    back_after = _back_on_tedapi_after(server, on_tedapi)
    time.sleep(2 * INTERVAL_S)
    after_threads = [sample(server.pid).threads]
    after = latencies(base, 10)
    after_threads.append(sample(server.pid).threads)
    return {
        "gateways": gateways,
        "fault_seconds": seconds,
        "faults_set": faults_set,
        "failovers": failovers(base),
        "on_fallback_when_faults_stopped": on_fallback_at_end,
        "all_back_on_tedapi": back_after is not None,
        "all_back_on_tedapi_after_s": back_after,
        "threads": {
            "before": threads_before,
            "max_during": max(threads_during),
            "after": after_threads[-1],
            "bound": threads_before + gateways,  # one fallback thread per gateway at most
            "settled": after_threads[0] == after_threads[-1],  # 10 s apart, all on tedapi
        },
        "api_before": summary(before),
        "api_during": summary(during),
        "api_after": summary(after),
    }


def _back_on_tedapi_after(server: Child, on_tedapi: Callable[[], bool]) -> float | None:
    """Seconds until every gateway is on tedapi again; None if not within BACK_BOUND_S."""
    cleared = time.monotonic()
    try:
        wait_until(server, on_tedapi, BACK_BOUND_S, interval=0.5)
    except ReadyTimeout:
        if not server.alive():
            raise
        return None
    return time.monotonic() - cleared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-failover-"))
    work.mkdir(parents=True, exist_ok=True)
    result = run(args.gateways, args.seconds, work, args.seed)
    text = json.dumps(result, indent=2)
    (work / "failover.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
