"""History end to end: a server process polls two simulated gateways (real pypowerwall over
HTTPS) whose clock the test moves. Today's buckets must equal the difference of each
gateway's lifetime counters, and their sum the site total; buckets and outages survive
SIGTERM and a restart; after kill -9 the file opens cleanly and, once polling resumes,
the totals are exact again (a lost batch loses its counters' base with its energy). A
second server on the same data folder is refused."""

from __future__ import annotations

import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests.integration.conftest import NOON_LOS_ANGELES
from tests.integration.server_process import (
    ServerProcess,
    free_port,
    local_gateways_json,
    without_pw_variables,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
# Simulated time per move of the gateways' clock: small enough that the energy between two
# polls (0.5 s apart on the server's clock) stays under history's jump limit.
SIM_STEP_S = 15.0  # at most ~48 Wh even at two Powerwalls' full power: under the 50 Wh slack
ONE_DAY = datetime.timedelta(days=1)
CHANNELS = {  # history channel: (meter, counter)
    "solar_wh": ("solar", "energy_exported"),
    "home_wh": ("load", "energy_imported"),
    "grid_import_wh": ("site", "energy_imported"),
    "grid_export_wh": ("site", "energy_exported"),
    "battery_charge_wh": ("battery", "energy_imported"),
    "battery_discharge_wh": ("battery", "energy_exported"),
}


class SimClock:
    def __init__(self) -> None:
        self.now = NOON_LOS_ANGELES

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> Iterator[tuple[RunningSimulator, SimClock]]:
    clock = SimClock()
    sites = [SiteConfig.for_index(i, seed=5) for i in range(2)]
    with running_simulator(
        sites, admin=False, app_factory=lambda config: SimulatedGateway(config, clock=clock)
    ) as running:
        yield running, clock


class Server:
    def __init__(self, sim: RunningSimulator, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = without_pw_variables()
        gateways = [{**g, "poll_interval": 0.5} for g in json.loads(local_gateways_json(sim))]
        env.update(PW_GATEWAYS=json.dumps(gateways), PW_DATA_DIR=str(data_dir))
        self.command = [sys.executable, "-m", "pypowerwall_server", "--port", str(self.port)]
        self.command += ["--bind-address", "127.0.0.1"]
        self.env = env
        self.process = ServerProcess(self.command, env, log)
        wait_until(self.healthy, 60)

    def healthy(self) -> bool:
        self.process.assert_running()
        try:
            return bool(httpx.get(f"{self.base}/health", timeout=2).json()["status"] == "healthy")
        except httpx.HTTPError:
            return False

    def get(self, path: str, **params: str) -> Any:
        answer = httpx.get(f"{self.base}{path}", params=params, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def counters(self, gateway_id: str) -> dict[str, float]:
        """The gateway's lifetime counters; its data may be stale (503) for a moment on a
        busy machine (polled every 0.5 s), so wait for a fresh answer."""
        found: dict[str, float] = {}

        def fresh() -> bool:
            answer = httpx.get(f"{self.base}/api/gateways/{gateway_id}/aggregates", timeout=5)
            if answer.status_code == 503:
                return False
            assert answer.status_code == 200, answer.text
            aggregates = answer.json()
            found.update({key: aggregates[m][c] for key, (m, c) in CHANNELS.items()})
            return True

        wait_until(fresh, 20)
        return found

    def today(self, gateway_id: str | None = None) -> dict[str, float]:
        params = {"gateway": gateway_id} if gateway_id else {}
        return self.get("/api/history/energy", **params)["totals"]  # type: ignore[no-any-return]


def move_clock(server: Server, clock: SimClock, ids: list[str]) -> dict[str, dict[str, float]]:
    """Advance the gateways' clock and wait until the server has read the new counters."""
    before = {gid: server.counters(gid) for gid in ids}
    clock.now += SIM_STEP_S
    wait_until(lambda: all(server.counters(g) != before[g] for g in ids), 20)
    return {gid: server.counters(gid) for gid in ids}


def equal_energy(server: Server, first: dict[str, dict[str, float]], now: dict[str, Any]) -> bool:
    """Today's buckets of each gateway and of the site equal the counter differences."""
    site = dict.fromkeys(CHANNELS, 0.0)
    for gid, base in first.items():
        totals = server.today(gid)
        for key in CHANNELS:
            expected = now[gid][key] - base[key]
            site[key] += expected
            if abs((totals[key] or 0.0) - expected) > 0.01:
                return False
    totals = server.today()
    return all(abs((totals[k] or 0.0) - site[k]) <= 0.02 for k in CHANNELS)


def first_outage(server: Server, window: dict[str, str]) -> dict[str, Any]:
    return server.get("/api/history/outages", **window)["outages"][0]  # type: ignore[no-any-return]


def test_history_survives_sigterm_and_kill_and_matches_the_counters(
    sim: tuple[RunningSimulator, SimClock], tmp_path: Path
) -> None:
    running, clock = sim
    ids = [gw.id for gw in running.gateways]
    server = Server(running, tmp_path / "data", tmp_path / "one.log")
    try:
        first = {gid: server.counters(gid) for gid in ids}  # the clock stands: every poll
        now = move_clock(server, clock, ids)
        assert any(now[ids[0]][k] > first[ids[0]][k] for k in CHANNELS)
        wait_until(lambda: equal_energy(server, first, now), 20)

        today = datetime.date.today()
        window = {"start": str(today - ONE_DAY), "end": str(today + ONE_DAY)}
        running.gateway(ids[0]).app.set_grid_up(False)  # an outage across a move
        wait_until(lambda: len(server.get("/api/history/outages", **window)["outages"]) == 1, 20)
        now = move_clock(server, clock, ids)
        running.gateway(ids[0]).app.set_grid_up(True)
        wait_until(lambda: first_outage(server, window)["end"] is not None, 20)
        wait_until(lambda: equal_energy(server, first, now), 20)

        second = subprocess.run(
            server.command, env=server.env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 2
        assert "another pypowerwall-server uses the history file" in second.stderr
    finally:
        assert server.process.stop() < 10

    server = Server(running, tmp_path / "data", tmp_path / "two.log")
    try:
        assert equal_energy(server, first, now)  # nothing moved: the file alone answers
        outages = server.get("/api/history/outages", **window)["outages"]
        assert len(outages) == 1 and outages[0]["end"] is not None
        now = move_clock(server, clock, ids)  # the restart's gap keeps its energy
        wait_until(lambda: equal_energy(server, first, now), 20)
    finally:
        os.kill(server.process.process.pid, signal.SIGKILL)
        server.process.stop()

    with sqlite3.connect(tmp_path / "data" / "history.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    server = Server(running, tmp_path / "data", tmp_path / "three.log")
    try:
        now = move_clock(server, clock, ids)
        wait_until(lambda: equal_energy(server, first, now), 20)
    finally:
        server.process.stop()
