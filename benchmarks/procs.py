"""Child processes: start, wait until ready, read CPU/RSS/threads from /proc, stop.

Every child runs in its own session (process group) so stopping it also stops anything it
started. `Children` remembers every child and stops all of them on exit, Ctrl-C or failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STOP_GRACE_S = 5.0


class ReadyTimeout(RuntimeError):
    """A child did not become ready in time (its log tail is in the message)."""


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    started: float  # time.monotonic() just before the process was spawned

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after a grace period."""
        if not self.alive():
            return
        _signal_group(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(self.pid, signal.SIGKILL)
            self.popen.wait(STOP_GRACE_S)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class Children:
    """Starts children and stops every one of them when the block ends, however it ends."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._children: list[Child] = []

    def __enter__(self) -> Children:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Child:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            started = time.monotonic()
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        child = Child(name, popen, log_path, started)
        self._children.append(child)
        return child

    def stop(self, child: Child) -> None:
        child.stop()
        if child in self._children:
            self._children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(self._children):
            with contextlib.suppress(Exception):
                child.stop()
        self._children.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """(status, body); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, ValueError):
        return 0, b""


def wait_until(
    child: Child, ready: Callable[[], bool], timeout: float, interval: float = 0.01
) -> float:
    """Poll `ready` until true; returns seconds since the child was spawned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise ReadyTimeout(f"{child.name} exited early:\n{child.log_tail()}")
        if ready():
            return time.monotonic() - child.started
        time.sleep(interval)
    raise ReadyTimeout(f"{child.name} not ready after {timeout:.0f} s:\n{child.log_tail()}")


@dataclass(frozen=True)
class ProcSample:
    """One reading of /proc/<pid>."""

    at: float  # time.monotonic()
    cpu_s: float  # user + system CPU seconds of the process (all threads)
    rss_bytes: int
    threads: int


def sample(pid: int) -> ProcSample:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    status = Path(f"/proc/{pid}/status").read_text()
    return ProcSample(time.monotonic(), cpu_s, _status_kb(status, "VmRSS") * 1024, _threads(status))


def _status_kb(status: str, key: str) -> int:
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _threads(status: str) -> int:
    for line in status.splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def cpu_percent(before: ProcSample, after: ProcSample) -> float:
    """CPU % over the interval (100 = one core busy)."""
    wall = after.at - before.at
    return 0.0 if wall <= 0 else 100.0 * (after.cpu_s - before.cpu_s) / wall
