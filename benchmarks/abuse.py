"""Part 8: abusive clients while normal ones are served (the client limits' acceptance).

wrk runs at 64 connections on /aggregates, alone (quiet), then again while
benchmarks/abuse_client.py opens 3,000 connections that trickle a request head and never
finish it and sends one header of up to 200 MB; quiet and abused windows alternate for a few
rounds. The server and wrk share one core, the attack and the gateway have the others
(benchmarks/cores.py), as if on two machines. Measured: wrk's p99 under abuse against the
quiet one of the same round (judged: the median over rounds), the server's RSS growth (peak
while abused, against the RSS before the first round), when the server closed each slow
connection, how many header lines the slow connections sent, and how much of the big header
the server took before refusing it. Then,
reported and not judged: the same attack sent to a socket that never accepts, beside wrk, for
the generator's own share of the p99; and one more round with every process on every core
(the method until 2026-11-30), where the attack's own CPU competes with the server's.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import stats
from benchmarks.cores import Split, pin, split
from benchmarks.procs import Child, Children, ProcSample, cpu_percent, sample
from benchmarks.wrk import parse_wrk, run_wrk, wrk_command

ABUSE_CLIENT = Path(__file__).resolve().parent / "abuse_client.py"
PATH = "/aggregates"
CONNECTIONS = 64
SLOW_CONNECTIONS = 3_000
BIG_HEADER_BYTES = 200 * 1024 * 1024
HEAD_TIMEOUT_S = 10.0  # the server's (pypowerwall_server/http/client_limits.py)
# wrk's abused window: the slow connections open within its first second and are closed by
# ~11.5 s, so nearly all of it is spent with 3,000 of them open.
ABUSE_S = 12
QUIET_S = ABUSE_S  # the same length: a longer window catches more of the machine's noise
WRK_HEAD_START_S = 0.3  # wrk's connections are open before the abuse begins
GIVE_UP_S = ABUSE_S + 10  # the client stops waiting for the server to close its connections
MIB = 1024 * 1024


def run_abuse(
    children: Children,
    base_url: str,
    pid: int,
    work: Path,
    say: Callable[[str], None],
    rounds: int,
    gateway_pid: int,
) -> dict[str, Any]:
    url = base_url + PATH
    port = int(base_url.rsplit(":", 1)[1])
    run_wrk(url, 16, 1)  # warm-up
    rss_start: int | None = None  # before the first abused window; every round against it
    done: list[dict[str, Any]] = []
    with split(pid, [gateway_pid]) as cores:
        say(f"  cores: {cores.to_json() if cores else 'all shared (nothing pinned)'}")
        for number in range(1, rounds + 1):
            one = _round(children, url, port, pid, work, rss_start, cores)
            if "error" in one:
                return one
            rss_start = one["rss_start_bytes"]
            done.append(one)
            say(_round_line(f"round {number}/{rounds}", one))
        alone = generator_alone(children, url, work, cores)
    summary = summarize(done)
    summary["cores"] = cores.to_json() if cores else None
    summary["generator_alone"] = alone
    say(
        f"  slow-client generator alone (into a socket that never accepts): p99 "
        f"{alone['quiet']['p99_ms']:.2f} ms quiet, {alone['beside']['p99_ms']:.2f} ms beside it "
        f"= {alone['p99_ratio'] or 0:.2f}x"
    )
    shared = _round(children, url, port, pid, work, rss_start, None)
    if "error" not in shared:
        say(_round_line("every process on every core (p99 reported, not judged)", shared))
        # Memory does not depend on the cores: this round's growth is judged as well.
        summary["rss_growth_peak_mib"] = max(
            summary["rss_growth_peak_mib"], shared["rss_growth_peak_mib"]
        )
    summary["shared_cores_round"] = shared
    return summary


def _round_line(label: str, one: dict[str, Any]) -> str:
    return (
        f"  {label}: p99 quiet {one['quiet']['p99_ms']:.2f} ms, abused "
        f"{one['under_abuse']['p99_ms']:.2f} ms = {one['p99_ratio']:.2f}x; "
        f"RSS +{one['rss_growth_peak_mib']:.1f} MiB; slow closed "
        f"{one['slow']['closed_by_server']:,}/{one['slow']['opened']:,} by "
        f"{one['slow']['closed_after_s_max'] or 0:.1f} s; "
        f"{one['lines_per_connection']:.1f} lines per slow connection; "
        f"client CPU {one['client_cpu_percent'] or 0:.0f} %; server CPU per request "
        f"{_us(one['server_cpu_us_per_request']['quiet'])} quiet, "
        f"{_us(one['server_cpu_us_per_request']['abused'])} abused"
    )


def _start_attacker(
    children: Children, name: str, port: int, give_up_s: float, out: Path, cores: Split | None
) -> Child:
    argv = [sys.executable, str(ABUSE_CLIENT), "--port", str(port), "--slow", str(SLOW_CONNECTIONS)]
    argv += ["--big-bytes", str(BIG_HEADER_BYTES), "--give-up", str(give_up_s), "--json", str(out)]
    client = children.start(name, argv)
    if cores:  # at once: it inherited this thread's core, the server's
        pin(client.pid, cores.attacker)
    return client


def generator_alone(
    children: Children, url: str, work: Path, cores: Split | None
) -> dict[str, Any]:
    """The same attack sent to a socket that listens and never accepts (the kernel takes
    it), while wrk runs on the server: how much of the abused p99 is the generator's own
    share of the machine's cores, the server doing nothing for it. Reported, not judged."""
    quiet = run_wrk(url, CONNECTIONS, QUIET_S)
    with socket.socket() as sink:
        sink.bind(("127.0.0.1", 0))
        sink.listen(SLOW_CONNECTIONS + 100)
        wrk = subprocess.Popen(
            wrk_command(url, CONNECTIONS, ABUSE_S), stdout=subprocess.PIPE, text=True
        )
        time.sleep(WRK_HEAD_START_S)
        out = work / "abuse-client-alone.json"
        client = _start_attacker(
            children, "abuse-client-alone", sink.getsockname()[1], ABUSE_S, out, cores
        )
        beside = parse_wrk(wrk.communicate()[0])
        with contextlib.suppress(subprocess.TimeoutExpired):  # then stopped below
            client.popen.wait(timeout=ABUSE_S + 20)
        children.stop(client)
    return {
        "quiet": quiet.to_json(),
        "beside": beside.to_json(),
        "p99_ratio": stats.ratio(beside.p99_ms, quiet.p99_ms),
    }


def _round(
    children: Children,
    url: str,
    port: int,
    pid: int,
    work: Path,
    rss_start: int | None,
    cores: Split | None,
) -> dict[str, Any]:
    quiet_before = sample(pid)
    quiet = run_wrk(url, CONNECTIONS, QUIET_S)
    quiet_after = sample(pid)
    if rss_start is None:
        rss_start = quiet_after.rss_bytes
    out = work / "abuse-client.json"
    out.unlink(missing_ok=True)
    before = sample(pid)
    wrk = subprocess.Popen(
        wrk_command(url, CONNECTIONS, ABUSE_S), stdout=subprocess.PIPE, text=True
    )
    time.sleep(WRK_HEAD_START_S)
    client = _start_attacker(children, "abuse-client", port, GIVE_UP_S, out, cores)
    client_before: ProcSample | None = None
    client_after: ProcSample | None = None
    peak = rss_start
    while wrk.poll() is None:
        peak = max(peak, sample(pid).rss_bytes)
        if client.alive():
            with contextlib.suppress(OSError):  # it may exit between the check and the read
                client_after = sample(client.pid)
                client_before = client_before or client_after
        time.sleep(0.2)
    after_wrk = sample(pid)
    under_abuse = parse_wrk(wrk.communicate()[0])
    with contextlib.suppress(subprocess.TimeoutExpired):  # then stopped below
        client.popen.wait(timeout=GIVE_UP_S + 20)
    children.stop(client)
    time.sleep(1.0)  # the last closes settle
    rss_after = sample(pid).rss_bytes
    if not out.exists():
        return {"error": client.log_tail()}
    attack = json.loads(out.read_text())
    slow = slow_summary(attack["slow"])
    return {
        "quiet": quiet.to_json(),
        "under_abuse": under_abuse.to_json(),
        "p99_ratio": stats.ratio(under_abuse.p99_ms, quiet.p99_ms),
        "server_cpu_percent": cpu_percent(before, after_wrk),
        # The server's CPU per normal request, quiet and abused (the abused one includes the
        # slow connections' work): unlike a p99, CPU time does not count waiting for a core.
        "server_cpu_us_per_request": {
            "quiet": _cpu_us_per_request(quiet_before, quiet_after, quiet.requests),
            "abused": _cpu_us_per_request(before, after_wrk, under_abuse.requests),
        },
        "client_cpu_percent": (
            cpu_percent(client_before, client_after) if client_before and client_after else None
        ),
        "rss_start_bytes": rss_start,
        "rss_growth_peak_mib": (peak - rss_start) / MIB,
        "rss_growth_after_mib": (rss_after - rss_start) / MIB,
        "slow": slow,
        "lines_per_connection": slow["lines_sent"] / max(1, slow["connected"]),
        "big_header": attack["big_header"],
    }


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} us"


def _cpu_us_per_request(before: ProcSample, after: ProcSample, requests: int) -> float | None:
    return 1e6 * (after.cpu_s - before.cpu_s) / requests if requests else None


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The judged figures over every round: the median p99 ratio, the worst of the rest."""
    ratios = [r["p99_ratio"] for r in rounds if r["p99_ratio"] is not None]
    slow = [r["slow"] for r in rounds]
    closed_max = [s["closed_after_s_max"] for s in slow if s["closed_after_s_max"] is not None]
    closed_min = [s["closed_after_s_min"] for s in slow if s["closed_after_s_min"] is not None]
    return {
        "path": PATH,
        "connections": CONNECTIONS,
        "head_timeout_s": HEAD_TIMEOUT_S,
        "window_s": ABUSE_S,
        "p99_ratio": stats.median(ratios),
        "p99_ratios": ratios,
        "quiet_p99_ms": [r["quiet"]["p99_ms"] for r in rounds],
        "abused_p99_ms": [r["under_abuse"]["p99_ms"] for r in rounds],
        "non_2xx": sum(r["under_abuse"]["non_2xx"] + r["quiet"]["non_2xx"] for r in rounds),
        "socket_errors": sum(
            r["under_abuse"]["socket_errors"] + r["quiet"]["socket_errors"] for r in rounds
        ),
        "rss_growth_peak_mib": max(r["rss_growth_peak_mib"] for r in rounds),
        "slow": {
            "opened": sum(s["opened"] for s in slow),
            "connected": sum(s["connected"] for s in slow),
            "closed_by_server": sum(s["closed_by_server"] for s in slow),
            "closed_after_s_min": min(closed_min) if closed_min else None,
            "closed_after_s_max": max(closed_max) if closed_max else None,
            "lines_sent": sum(s["lines_sent"] for s in slow),
        },
        "rounds": rounds,
    }


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
        "lines_sent": sum(s.get("lines", 0) for s in connected),
    }
