"""The lockout scenario and the TLS handshake slowloris (part of the abuse benchmark).

Lockout: our server with a control secret and 127.0.0.1 as a trusted proxy; attackers send
wrong tokens as fast as they can from the owner's own address and with forged
X-Forwarded-For addresses, while the owner writes with the right token every 0.2 s. Judged:
0 owner failures (an owner answer of 401, 403, 429, 5xx or no answer). The simulated gateway
is read over TEDAPI, which cannot write: the owner's 409 means the token was accepted.

TLS slowloris: the HTTPS port gets SLOW_TLS connections that send one byte of a ClientHello
and stop, while wrk measures the plain port. Judged as the plain slowloris: p99 <= 3x the
quiet one, RSS <= +20 MiB, the descriptors back to where they were.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks import servers, stats
from benchmarks.procs import Child, Children, free_port, sample
from benchmarks.simproc import SimGateway
from benchmarks.wrk import parse_wrk, run_wrk, wrk_command

SECRET = "benchmark-control-secret-0123456789"
ATTACKERS = 4  # threads: two at the owner's address, two with forged forwarded addresses
LOCKOUT_S = 10.0
OWNER_EVERY_S = 0.2
SLOW_TLS = 1_000
TLS_WINDOW_S = 12
MIB = 1024 * 1024


def start_guarded(children: Children, work: Path, gateway: SimGateway) -> tuple[Child, int, int]:
    """Our server with control on, a trusted local proxy and HTTPS beside HTTP."""
    port, https_port = free_port(), free_port()
    config = {
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "https": True,
            "https_port": https_port,
            "data_dir": str(work / "guarded-data"),
            "control_secret": SECRET,
            "trusted_proxies": ["127.0.0.1"],
        },
        "gateways": [{"id": gateway.id, "host": gateway.host, "gw_pwd": gateway.gw_pwd}],
    }
    path = work / "guarded.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(path)]
    child = children.start("ours-guarded", argv, env=servers.clean_env(), cwd=servers.REPO)
    servers.wait_first_data(child, f"http://127.0.0.1:{port}")
    return child, port, https_port


def run_lockout(port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/control/reserve"
    stop = threading.Event()
    attacks: Counter[int] = Counter()
    owner: Counter[str] = Counter()

    def attacker(number: int) -> None:
        forged = number % 2 == 1
        with httpx.Client(timeout=10) as client:
            sent = 0
            while not stop.is_set():
                headers = {"Authorization": f"Bearer guess-{number}-{sent}"}
                if forged:
                    headers["X-Forwarded-For"] = f"10.{number}.{sent // 250 % 250}.{sent % 250}"
                attacks[client.post(url, json={"value": 99}, headers=headers).status_code] += 1
                sent += 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(ATTACKERS)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    with httpx.Client(timeout=15) as client:
        while time.monotonic() - started < LOCKOUT_S:
            try:
                answer = client.post(
                    url, json={"value": 20}, headers={"Authorization": f"Bearer {SECRET}"}
                )
                owner[str(answer.status_code)] += 1
            except httpx.HTTPError as exc:
                owner[type(exc).__name__] += 1
            time.sleep(OWNER_EVERY_S)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    failures = sum(n for code, n in owner.items() if code not in ("200", "409"))
    return {
        "attacker_answers": {str(code): n for code, n in sorted(attacks.items())},
        "attacker_requests_per_s": sum(attacks.values()) / elapsed,
        "wrong_tokens_answered_401": attacks[401],
        "owner_answers": dict(owner),
        "owner_failures": failures,
    }


def run_tls_slowloris(pid: int, port: int, https_port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/aggregates"
    run_wrk(url, 16, 1)  # warm-up
    quiet = run_wrk(url, 64, TLS_WINDOW_S)
    fds_before, rss_before = _fds(pid), sample(pid).rss_bytes
    wrk = subprocess.Popen(wrk_command(url, 64, TLS_WINDOW_S), stdout=subprocess.PIPE, text=True)
    held: list[socket.socket] = []
    for _ in range(SLOW_TLS):
        try:
            sock = socket.create_connection(("127.0.0.1", https_port), timeout=5)
            sock.sendall(b"\x16")  # a ClientHello's first byte, and nothing more
            held.append(sock)
        except OSError:
            break
    peak = rss_before
    while wrk.poll() is None:
        peak = max(peak, sample(pid).rss_bytes)
        time.sleep(0.2)
    abused = parse_wrk(wrk.communicate()[0])
    closed = sum(1 for sock in held if _closed(sock))
    for sock in held:
        sock.close()
    time.sleep(1.0)  # the last closes settle
    return {
        "quiet": quiet.to_json(),
        "under_abuse": abused.to_json(),
        "p99_ratio": stats.ratio(abused.p99_ms, quiet.p99_ms),
        "rss_growth_peak_mib": (peak - rss_before) / MIB,
        "slow_opened": len(held),
        "slow_closed_by_server": closed,
        "fds_before": fds_before,
        "fds_after": _fds(pid),
    }


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
