"""What a running server with default settings has NOT imported (idle RSS, BENCHMARKS.md:
goal <= 64 MiB): modules a server loads only when a feature is used, so the next import
added at start shows up here rather than as a few MiB in the next benchmark run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.server_process import free_port, without_pw_variables

pytestmark = pytest.mark.integration  # starts the server as a process

# The server, run as `python -m pypowerwall_server` does, plus a thread that waits until the
# first poll has imported pypowerwall and a hot GET was answered, then writes sys.modules.
PROBE = """
import json, os, runpy, sys, threading, time, urllib.error, urllib.request

def probe(url, out):
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline and not (answered and "pypowerwall" in sys.modules):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            answered = True
        except urllib.error.HTTPError:  # 503 before the first data: answered all the same
            answered = True
        except OSError:
            pass
        time.sleep(0.1)
    time.sleep(1.0)  # the first poll's failure handled
    with open(out, "w") as f:
        json.dump({"ready": answered and "pypowerwall" in sys.modules,
                   "modules": sorted(sys.modules)}, f)
    os._exit(0)

url, out = sys.argv[1], sys.argv[2]
threading.Thread(target=probe, args=(url, out), daemon=True).start()
sys.argv = ["pypowerwall_server"]
runpy.run_module("pypowerwall_server", run_name="__main__")
"""

# Loaded only when used: the first /metrics scrape, the FastAPI app (first non-hot request),
# MQTT with a broker, HTTPS, and httpx's command-line tool (rich, pygments) that
# pypowerwall's cloud client would pull in.
NOT_AT_IDLE = (
    "prometheus_client",
    "pypowerwall_server.prometheus",
    "fastapi",
    "aiomqtt",
    "paho",
    "cryptography",
    "pypowerwall_server.server_tls",
    "rich",
    "pygments",
)


def test_idle_server_has_not_imported_what_it_does_not_use(tmp_path: Path) -> None:
    port, dead_gateway = free_port(), free_port()  # nothing listens there: the poll fails
    env = without_pw_variables() | {
        "PW_PORT": str(port),
        "PW_BIND_ADDRESS": "127.0.0.1",
        "PW_HOST": f"127.0.0.1:{dead_gateway}",
        "PW_GW_PWD": "ABCDEFGHIJ",
        "PW_TIMEOUT": "1",
    }
    out = tmp_path / "modules.json"
    command = [sys.executable, "-c", PROBE, f"http://127.0.0.1:{port}/aggregates", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
    assert out.exists(), f"the server did not come up:\n{done.stdout}\n{done.stderr}"
    report = json.loads(out.read_text())
    assert report["ready"], "no hot GET answered, or no poll imported pypowerwall"
    loaded = [
        name
        for name in report["modules"]
        if any(name == heavy or name.startswith(heavy + ".") for heavy in NOT_AT_IDLE)
    ]
    assert loaded == []
    assert "pypowerwall_server.http.hot_protocol" in report["modules"]  # it is that server
