"""History faults in a real server process polling the simulator: a read-only data folder,
a full disk (a file-size limit on the server process) and a corrupt history file. Each
time live data keeps being served, /health names the history problem, the log has one
line about it (not one per poll), and the history routes answer 503 with the reason."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.integration.server_process import free_port, local_gateways_json, without_pw_variables
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
FILE_LIMIT_BYTES = 64 * 1024  # the schema fits (about 48 KiB); a few batches do not


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator([SiteConfig.for_index(0, seed=3)], admin=False) as running:
        yield running


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nothing may be written to: as root a read-only mount (root ignores modes),
    otherwise mode 0555."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def limit_file_size() -> None:  # runs in the server's child process before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT_BYTES, FILE_LIMIT_BYTES))


def serve(sim: RunningSimulator, data_dir: Path, log: Path, limit: bool = False) -> str:
    """Start a server, check the fault is handled while live data flows, stop it; its log."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = without_pw_variables()
    gateways = [{**g, "poll_interval": 0.2} for g in json.loads(local_gateways_json(sim))]
    env.update(PW_GATEWAYS=json.dumps(gateways), PW_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "pypowerwall_server", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--bind-address", "127.0.0.1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_file_size if limit else None,
        )
        try:
            # Live data is not affected: the gateway is fresh while history is broken.
            wait_until(lambda: _history_problem(base) is not None and _healthy(base), 60)
            health = httpx.get(f"{base}/health", timeout=5).json()
            assert httpx.get(f"{base}/aggregates", timeout=5).status_code == 200
            answer = httpx.get(f"{base}/api/history/energy", timeout=5)
            assert answer.status_code == 503
            assert answer.json()["reason"] == health["history"]["problem"]
            polls = httpx.get(f"{base}/api/gateways/{sim.gateways[0].id}", timeout=5).json()
            wait_until(lambda: _polls(base, sim) >= _count(polls) + 5, 30)  # more polls pass
        finally:
            process.terminate()
            process.wait(timeout=20)
    return log.read_text(encoding="utf-8", errors="replace")


def _history_problem(base: str) -> str | None:
    try:
        health = httpx.get(f"{base}/health", timeout=2).json()
    except httpx.HTTPError:
        return None
    problem: str | None = health.get("history", {}).get("problem")
    return problem


def _healthy(base: str) -> bool:
    return bool(httpx.get(f"{base}/health", timeout=2).json()["status"] == "healthy")


def _polls(base: str, sim: RunningSimulator) -> int:
    return _count(httpx.get(f"{base}/stats", timeout=5).json()["gateways"][sim.gateways[0].id])


def _count(entry: dict[str, object]) -> int:
    polls = entry.get("polls", 0)
    return polls if isinstance(polls, int) else 0


def _history_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "history" in line.lower() and "ERROR" in line]


def test_read_only_data_folder(sim: RunningSimulator, tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "ro") as folder:
        log = serve(sim, folder, tmp_path / "server.log")
    lines = _history_lines(log)
    assert len(lines) == 1, log
    assert "cannot be used" in lines[0]


def test_disk_full(sim: RunningSimulator, tmp_path: Path) -> None:
    log = serve(sim, tmp_path / "data", tmp_path / "server.log", limit=True)
    lines = _history_lines(log)
    assert len(lines) == 1, log
    assert "full" in lines[0] or "I/O" in lines[0] or "cannot be used" in lines[0]


def test_corrupt_history_file(sim: RunningSimulator, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "history.sqlite").write_bytes(b"not a database, just bytes " * 400)
    log = serve(sim, folder, tmp_path / "server.log")
    lines = _history_lines(log)
    assert len(lines) == 1, log
    assert "not a database" in lines[0]
