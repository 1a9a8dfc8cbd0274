"""The server as a user runs it: a separate process, stopped with SIGTERM, its log kept."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pypowerwall_server.simulator.runner import RunningSimulator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def without_pw_variables() -> dict[str, str]:
    """This machine's environment (CA bundle, PATH...) minus any PW_* setting."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PW_")}


def local_gateways_json(sim: RunningSimulator, timeout: float = 1.0) -> str:
    """PW_GATEWAYS for every simulated gateway, in local mode (it recovers at once from a
    fault, where TEDAPI mode backs off for up to 30 s)."""
    return json.dumps(
        [
            {
                "id": gw.id,
                "host": gw.host,
                "password": gw.config.customer_password,
                "email": gw.config.customer_email,
                "timeout": timeout,
            }
            for gw in sim.gateways
        ]
    )


class ServerProcess:
    """A started server; `stop()` sends SIGTERM and returns how long it took to exit."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            list(command), env=dict(env), stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def assert_running(self) -> None:
        assert self.process.poll() is None, f"server exited early:\n{self.output()}"

    def stop(self, timeout: float = 10.0) -> float:
        """SIGTERM, then seconds until the process was gone (killed after `timeout`)."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
        return time.monotonic() - started
