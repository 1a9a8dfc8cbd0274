"""Part 8: abusive clients while normal ones are served (issue 15's acceptance).

wrk runs at 64 connections on /aggregates, first alone (quiet), then again while
benchmarks/abuse_client.py opens 3,000 connections that trickle a request head and never
finish it and sends one header of up to 200 MB. Measured: wrk's p99 under abuse against the
quiet one, the server's RSS growth (peak while abused and after), when the server closed each
slow connection, and how much of the big header it took before refusing it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.procs import Children, cpu_percent, sample
from benchmarks.wrk import parse_wrk, run_wrk, wrk_command

ABUSE_CLIENT = Path(__file__).resolve().parent / "abuse_client.py"
PATH = "/aggregates"
CONNECTIONS = 64
SLOW_CONNECTIONS = 3_000
BIG_HEADER_BYTES = 200 * 1024 * 1024
HEAD_TIMEOUT_S = 10.0  # the server's (pypowerwall_server/http/client_limits.py)
ABUSE_S = 16  # the slow connections are all opened in ~1 s; they must be closed by ~11 s
QUIET_S = ABUSE_S  # the same length: a longer window catches more of the machine's noise
WRK_HEAD_START_S = 1.0  # wrk's connections are open before the abuse begins
MIB = 1024 * 1024


def run_abuse(
    children: Children, base_url: str, pid: int, work: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    url = base_url + PATH
    run_wrk(url, 16, 1)  # warm-up
    quiet = run_wrk(url, CONNECTIONS, QUIET_S)
    say(f"  quiet: {quiet.requests_per_s:,.0f} req/s, p99 {quiet.p99_ms:.2f} ms")
    rss_before = sample(pid).rss_bytes
    out = work / "abuse-client.json"
    out.unlink(missing_ok=True)
    wrk = subprocess.Popen(
        wrk_command(url, CONNECTIONS, ABUSE_S), stdout=subprocess.PIPE, text=True
    )
    time.sleep(WRK_HEAD_START_S)
    before = sample(pid)
    port = base_url.rsplit(":", 1)[1]
    argv = [sys.executable, str(ABUSE_CLIENT), "--port", port, "--slow", str(SLOW_CONNECTIONS)]
    argv += ["--big-bytes", str(BIG_HEADER_BYTES), "--give-up", str(ABUSE_S + 10)]
    client = children.start("abuse-client", [*argv, "--json", str(out)])
    peak = rss_before
    while wrk.poll() is None:
        peak = max(peak, sample(pid).rss_bytes)
        time.sleep(0.2)
    after_wrk = sample(pid)
    under_abuse = parse_wrk(wrk.communicate()[0])
    with contextlib.suppress(subprocess.TimeoutExpired):  # then stopped below
        client.popen.wait(timeout=ABUSE_S + 30)
    children.stop(client)
    time.sleep(1.0)  # the last closes settle
    rss_after = sample(pid).rss_bytes
    if not out.exists():
        return {"error": client.log_tail()}
    attack = json.loads(out.read_text())
    result = {
        "path": PATH,
        "connections": CONNECTIONS,
        "quiet": quiet.to_json(),
        "under_abuse": under_abuse.to_json(),
        "p99_ratio": under_abuse.p99_ms / quiet.p99_ms if quiet.p99_ms else None,
        "server_cpu_percent": cpu_percent(before, after_wrk),
        "rss_before_mib": rss_before / MIB,
        "rss_growth_peak_mib": (peak - rss_before) / MIB,
        "rss_growth_after_mib": (rss_after - rss_before) / MIB,
        "head_timeout_s": HEAD_TIMEOUT_S,
        "slow": slow_summary(attack["slow"]),
        "big_header": attack["big_header"],
    }
    say(f"  under abuse: {json.dumps({k: v for k, v in result.items() if k != 'quiet'})}")
    return result


def slow_summary(slow: list[dict[str, Any]]) -> dict[str, Any]:
    connected = [s for s in slow if s["connected"]]
    closed = [s for s in connected if s["closed_by_server"]]
    times = sorted(s["closed_after_s"] for s in closed)
    statuses: dict[str, int] = {}
    for s in closed:
        key = s["status"] or "(closed without an answer)"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "opened": len(slow),
        "connected": len(connected),
        "closed_by_server": len(closed),
        "closed_after_s_min": times[0] if times else None,
        "closed_after_s_max": times[-1] if times else None,
        "answers": statuses,
    }
