"""Hot GETs with notifications configured vs not, in the same run: two of our servers on
one simulator (each its own gateway), one with PW_NOTIFY_URLS pointing at a local webhook
receiver, the other without; the grid goes down and up on both gateways every round, so the
one that notifies sends while it is measured. Cells interleaved (http_bench), the two
servers back to back in each; on a shared, noisy machine the figure is the median of the
rounds' paired ratios notify / plain (requests per second), per cell.

    python -m benchmarks.notify_bench [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from benchmarks import http_bench, servers, stats
from benchmarks.procs import Children, free_port
from benchmarks.simproc import SimGateway, start_simulator

PATHS = ("/aggregates", "/api/aggregate/power")
INTERVAL_S = 1.0


class _Quiet(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:  # http.server calls it by this name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Quiet.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def start_server(
    children: Children, work: Path, name: str, gateway: SimGateway, server: dict[str, Any]
) -> http_bench.HttpTarget:
    port = free_port()
    config = {
        "server": {"host": "127.0.0.1", "port": port, **server},
        "gateways": [{"id": gateway.id, "host": gateway.host, "gw_pwd": gateway.gw_pwd,
                      "poll_interval": INTERVAL_S}],
    }  # fmt: skip
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(path)]
    child = children.start(name, argv, env=servers.clean_env(), cwd=servers.REPO)
    base_url = f"http://127.0.0.1:{port}"
    servers.wait_first_data(child, base_url)
    return http_bench.HttpTarget(name, base_url, child.pid)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notify_bench")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"json://127.0.0.1:{receiver.server_address[1]}/hook"
    work = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    plan = http_bench.Plan(PATHS, (args.connections,), args.seconds, 1, 1)
    rounds: list[dict[str, Any]] = []
    try:
        with Children(work) as children:
            sim = start_simulator(children, 2)
            plain_gw, notify_gw = sim.gateways
            plain = start_server(children, work, "plain", plain_gw, {})
            notify = start_server(
                children, work, "notify", notify_gw,
                {"notify_urls": url, "notify_events": "all", "notify_hold_down": 0},
            )  # fmt: skip
            for index in range(args.rounds):
                # The grid changes on both gateways: the notifying server sends meanwhile.
                for gateway in (plain_gw, notify_gw):
                    if index % 2 == 0:
                        sim.set_fault(gateway.id, {"kind": "grid_outage"})
                    else:
                        sim.clear_faults()
                say = lambda line: print(line, flush=True)  # noqa: E731
                rounds.append(http_bench.run_http([plain, notify], plan, say)["targets"])
    finally:
        receiver.shutdown()
    result = _figures(rounds)
    result["notifications_received"] = _Quiet.received
    print(json.dumps(result, indent=1))
    return 0


def _figures(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    cells = rounds[0]["plain"].keys()
    out: dict[str, Any] = {}
    for cell in cells:
        plain = [r["plain"][cell]["median"]["requests_per_s"] for r in rounds]
        notify = [r["notify"][cell]["median"]["requests_per_s"] for r in rounds]
        paired = [n / p for n, p in zip(notify, plain, strict=True) if p]
        out[cell] = {
            "plain_rps": stats.median(plain),
            "notify_rps": stats.median(notify),
            "ratio": stats.median(paired),
            "ratio_per_round": [round(r, 3) for r in paired],
        }
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
