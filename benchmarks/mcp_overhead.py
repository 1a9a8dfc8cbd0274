"""Hot GETs with the MCP endpoint on and off, measured in the same run (`python -m
benchmarks.mcp_overhead`): two servers on one simulated gateway, one with PW_MCP on (its
/mcp called once, so the SDK is loaded), the same keep-alive load on /aggregates against
each in turn, several rounds, the order swapped each round; the figure is the ratio of the
median request rates (on / off). A small asyncio client (wrk is not on every machine)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from benchmarks import stats
from benchmarks.procs import Children
from benchmarks.servers import clean_env, wait_first_data
from benchmarks.simproc import SimGateway, start_simulator

REPO = Path(__file__).resolve().parent.parent
REQUEST = b"GET /aggregates HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def _connection(port: int, until: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.monotonic() < until:
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


async def _load(port: int, connections: int, seconds: float) -> float:
    until = time.monotonic() + seconds
    counts = await asyncio.gather(*(_connection(port, until) for _ in range(connections)))
    return sum(counts) / seconds


def _start(children: Children, work: Path, gateway: SimGateway, port: int, mcp: bool) -> None:
    name = "mcp-on" if mcp else "mcp-off"
    config = {
        "server": {"host": "127.0.0.1", "port": port, "mcp": mcp},
        "gateways": [{"id": gateway.id, "host": gateway.host, "gw_pwd": gateway.gw_pwd}],
    }
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    argv = [sys.executable, "-m", "pypowerwall_server", "--config", str(path)]
    child = children.start(name, argv, env=clean_env(), cwd=REPO)
    wait_first_data(child, f"http://127.0.0.1:{port}")


def _call_mcp(port: int) -> int:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/mcp",
        data=body,
        headers={
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(answer.status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=28100, help="servers on port and port+1")
    parser.add_argument("--work", type=Path, default=Path("/tmp/mcp-overhead"))
    args = parser.parse_args(argv)
    ports = {"off": args.port, "on": args.port + 1}
    rates: dict[str, list[float]] = {"off": [], "on": []}
    with Children(args.work / "logs") as children:
        sim = start_simulator(
            children, 1, extra=("--port", str(args.port + 10), "--admin-port", str(args.port + 20))
        )
        gateway = sim.gateways[0]
        _start(children, args.work, gateway, ports["off"], mcp=False)
        _start(children, args.work, gateway, ports["on"], mcp=True)
        print(f"/mcp answered {_call_mcp(ports['on'])}")
        for name in ("off", "on"):  # warm-up
            asyncio.run(_load(ports[name], args.connections, 1.0))
        for round_index in range(args.rounds):
            order = ("off", "on") if round_index % 2 == 0 else ("on", "off")
            for name in order:
                rate = asyncio.run(_load(ports[name], args.connections, args.seconds))
                rates[name].append(rate)
                print(f"round {round_index + 1} mcp {name:3} {rate:9.0f} req/s")
    on, off = stats.median(rates["on"]), stats.median(rates["off"])
    print(f"median req/s: off {off:.0f}, on {on:.0f}; on/off {stats.ratio(on, off):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
