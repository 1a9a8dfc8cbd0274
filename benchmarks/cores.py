"""Split the machine's cores for the abuse part as if it were two machines: the server and its
normal client (wrk) on one core, the attacker and the gateway on the others.

On a small machine every process otherwise competes for every core, and the p99 then mostly
measures the attacker's own CPU: the same attack sent into a socket that never accepts (the
server doing nothing for it) raised wrk's p99 1.6-2.3x on 2 cores, and a server that never
read a trickling head again scored no better than ours (BENCHMARKS.md, 2026-11-30). With the
split, all the work the server does for the attack (accepting, reading, answering, closing)
still lands on the core its normal client's requests need; only the attacker's own work (its
code and, on loopback, the kernel's send and receive path of its packets) does not.
Linux only; elsewhere, or on a single core, nothing is pinned.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Split:
    server: list[int]  # the server and wrk (and anything this process starts meanwhile)
    attacker: list[int]  # the attacking clients and the gateway

    def to_json(self) -> dict[str, list[int]]:
        return {"server_and_wrk": self.server, "attacker_and_gateway": self.attacker}


def _tasks(pid: int) -> list[int]:
    """Every thread of a process (affinity is per thread; new threads inherit their creator's)."""
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


def pin(pid: int, cores: set[int] | list[int]) -> None:
    """Pin every thread of `pid` (0: this thread) to `cores`."""
    for tid in [0] if pid == 0 else _tasks(pid):
        with contextlib.suppress(OSError):  # a thread may end meanwhile
            os.sched_setaffinity(tid, set(cores))


@contextlib.contextmanager
def split(server_pid: int, gateway_pids: list[int]) -> Iterator[Split | None]:
    """Pin the server, and this thread (so the wrk it starts meanwhile inherits the core), to
    the last core; the gateways to the others; undo on exit. The caller pins the attacker it
    starts to `Split.attacker`. Yields None when nothing could be pinned."""
    if not hasattr(os, "sched_setaffinity") or not Path("/proc/self/task").is_dir():
        yield None
        return
    every = set(os.sched_getaffinity(0))
    if len(every) < 2:
        yield None
        return
    server = {max(every)}
    cores = Split(server=sorted(server), attacker=sorted(every - server))
    pin(server_pid, server)
    for pid in gateway_pids:
        pin(pid, cores.attacker)
    pin(0, server)
    try:
        yield cores
    finally:
        for pid in [0, server_pid, *gateway_pids]:
            pin(pid, every)
