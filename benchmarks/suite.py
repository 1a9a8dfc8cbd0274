"""Run the selected parts in order, with every child process stopped at the end.

Order: start the simulator, our server (timed to first data), the control and the peer;
idle window (gateway requests/min idle, RSS after idling), during which the scale part runs
on its own simulators and servers (the idle servers get no clients either way, their polls
barely disturb a measure of poll intervals, and a full run stays under 20 minutes); HTTP
with the floor and peer interleaved (gateway requests/min under load); then the WebSocket
part, alone on the machine (its p99 moved by ~25 ms with the idle servers beside it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import (
    abuse,
    abuse_lockout,
    failover,
    footprint,
    gateway_load,
    http_bench,
    mqtt_bench,
    peer,
    scale,
    servers,
    stats,
    ws,
)
from benchmarks.procs import Child, Children, ProcSample, free_port, sample
from benchmarks.simproc import SimGateway, Simulator, start_simulator

POLL_INTERVAL_S = 5.0
CONTROL = "control"  # our server polling its own gateway, never sent a client request
HTTP_PARTS = {"http", "floor", "peer"}
PEER_CONNECTIONS = (16, 64)
ALL_PARTS = (
    "http",
    "floor",
    "peer",
    "gateway-load",
    "scale",
    "footprint",
    "ws",
    "mqtt",
    "abuse",
    "failover",
)


@dataclass(frozen=True)
class Options:
    parts: frozenset[str]
    http: http_bench.Plan
    idle_seconds: float
    scale_ks: tuple[int, ...]
    scale_observe_seconds: float
    ws_clients: tuple[int, ...]
    ws_seconds: float
    work: Path
    failover: failover.Size = failover.FULL
    abuse_rounds: int = 3


@dataclass
class Server:
    name: str
    child: Child
    base_url: str
    gateway_id: str


WS_GATEWAYS = 3
WS_POLL_INTERVAL_S = 1.0


def run_suite(options: Options, say: Callable[[str], None]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    needs_main = bool(options.parts & (HTTP_PARTS | {"gateway-load", "footprint"}))
    if needs_main:
        with Children(options.work / "logs") as children:  # all stopped before the next part
            _main_phases(children, options, results, say)  # runs the scale part too
    elif "scale" in options.parts:
        _scale_part(options, results, say)
    if "ws" in options.parts:
        with Children(options.work / "logs") as children:
            _ws_phase(children, options, results, say)
    if "mqtt" in options.parts:
        with Children(options.work / "logs") as children:
            results["mqtt"] = mqtt_bench.run_mqtt(
                children,
                options.work,
                options.http,
                max(options.scale_ks),
                options.scale_observe_seconds,
                say,
            )
    if "abuse" in options.parts:
        with Children(options.work / "logs") as children:
            _abuse_phase(children, options, results, say)
    if "failover" in options.parts:
        with Children(options.work / "logs") as children:
            results["failover"] = failover.run_failover(
                children, options.work, options.failover.gateways, options.failover.seconds, say
            )
    return results


def _scale_part(options: Options, results: dict[str, Any], say: Callable[[str], None]) -> None:
    with Children(options.work / "logs") as children:
        say(f"scale: K = {', '.join(map(str, options.scale_ks))}")
        results["scale"] = scale.run_scale(
            children, options.work, options.scale_ks, options.scale_observe_seconds, say
        )


def _main_phases(
    children: Children, options: Options, results: dict[str, Any], say: Callable[[str], None]
) -> None:
    with_peer = "peer" in options.parts
    venv = peer.ensure_peer(options.work, say) if with_peer else None
    # Gateways: ours, a control (our server with no clients, for "client load adds 0"), peer.
    sim = start_simulator(children, 3 if with_peer else 2)
    say(f"simulator up: {len(sim.gateways)} gateway(s), admin {sim.admin_url}")
    control = _start_ours(children, options, sim.gateways[1], CONTROL)
    ours = _start_ours(children, options, sim.gateways[0], "ours")
    started = {"ours": ours}
    if venv is not None:
        started["peer"] = _start_peer(children, options, sim.gateways[2], venv)
    results["start_to_first_data_s"] = {name: s.first_data_s for name, s in started.items()}
    for name, s in started.items():
        say(f"{name}: first non-empty /aggregates {s.first_data_s:.2f} s after spawn")
    running = {name: s.server for name, s in started.items()}
    running[CONTROL] = control.server
    results["gateway_load"] = {"interval_s": POLL_INTERVAL_S}
    idle = options.parts & {"gateway-load", "footprint"}
    window = _open_idle_window(sim, running, options, say) if idle else None
    if "scale" in options.parts:
        _scale_part(options, results, say)
    if window is not None:
        _close_idle_window(window, sim, running, options, results)
    if options.parts & HTTP_PARTS:
        _http_phase(children, sim, running, options, results, say)


def _ws_phase(
    children: Children, options: Options, results: dict[str, Any], say: Callable[[str], None]
) -> None:
    """The target's setup: 3 gateways changing every second (1 s poll interval), our server
    alone on the machine with the load clients."""
    child, base_url, _ = _ours_alone(children, options, WS_GATEWAYS, WS_POLL_INTERVAL_S, "ws")
    say(
        f"ws: {WS_GATEWAYS} gateways every {WS_POLL_INTERVAL_S:g} s; "
        f"{', '.join(map(str, options.ws_clients))} clients, {options.ws_seconds:g} s each"
    )
    results["ws"] = ws.run_ws(
        children,
        base_url,
        child.pid,
        options.ws_clients,
        options.ws_seconds,
        options.work,
        say,
    )


def _ours_alone(
    children: Children, options: Options, gateways: int, interval: float, part: str
) -> tuple[Child, str, Simulator]:
    """A simulator and our server polling it, for one part; returns once it has data."""
    sim = start_simulator(children, gateways, name=f"{part}-simulator")
    port = free_port()
    child = servers.start_ours(children, options.work, sim.gateways, port, interval, f"ours-{part}")
    base_url = f"http://127.0.0.1:{port}"
    servers.wait_first_data(child, base_url)
    return child, base_url, sim


def _abuse_phase(
    children: Children, options: Options, results: dict[str, Any], say: Callable[[str], None]
) -> None:
    """Our server alone with its gateway, wrk and the abusive clients."""
    child, base_url, sim = _ours_alone(children, options, 1, POLL_INTERVAL_S, "abuse")
    say(
        f"abuse: wrk at {abuse.CONNECTIONS} connections on {abuse.PATH}, quiet, then with "
        f"{abuse.SLOW_CONNECTIONS:,} slow connections and a "
        f"{abuse.BIG_HEADER_BYTES // abuse.MIB} MiB header, {options.abuse_rounds} rounds"
    )
    results["abuse"] = abuse.run_abuse(
        children, base_url, child.pid, options.work, say, options.abuse_rounds, sim.child.pid
    )
    children.stop(child)
    guarded, port, https_port = abuse_lockout.start_guarded(children, options.work, sim.gateways[0])
    lockout = abuse_lockout.run_lockout(port)
    say(
        f"  lockout: attackers {lockout['attacker_requests_per_s']:.0f} req/s "
        f"{lockout['attacker_answers']}, owner {lockout['owner_answers']}: "
        f"{lockout['owner_failures']} owner failures"
    )
    tls = abuse_lockout.run_tls_slowloris(guarded.pid, port, https_port)
    say(
        f"  TLS handshake slowloris: {tls['slow_opened']:,} held, "
        f"{tls['slow_closed_by_server']:,} closed by the server; p99 quiet "
        f"{tls['quiet']['p99_ms']:.2f} ms, abused {tls['under_abuse']['p99_ms']:.2f} ms = "
        f"{tls['p99_ratio'] or 0:.2f}x; RSS +{tls['rss_growth_peak_mib']:.1f} MiB; "
        f"fds {tls['fds_before']} before, {tls['fds_after']} after"
    )
    results["abuse"]["lockout"] = lockout
    results["abuse"]["tls_slowloris"] = tls


@dataclass
class Started:
    server: Server
    first_data_s: float


def _start_ours(children: Children, options: Options, gateway: SimGateway, name: str) -> Started:
    port = free_port()
    child = servers.start_ours(children, options.work, [gateway], port, POLL_INTERVAL_S, name)
    base_url = f"http://127.0.0.1:{port}"
    first = servers.wait_first_data(child, base_url)
    return Started(Server(name, child, base_url, gateway.id), first)


def _start_peer(children: Children, options: Options, gateway: SimGateway, venv: Path) -> Started:
    port = free_port()
    child = peer.start_peer(children, venv, options.work, gateway, port, POLL_INTERVAL_S)
    base_url = f"http://127.0.0.1:{port}"
    first = servers.wait_first_data(child, base_url)
    return Started(Server("peer", child, base_url, gateway.id), first)


@dataclass
class IdleStart:
    window: gateway_load.IdleWindow
    samples: dict[str, ProcSample]


def _open_idle_window(
    sim: Simulator, running: dict[str, Server], options: Options, say: Callable[[str], None]
) -> IdleStart:
    say(f"idle window: {options.idle_seconds:g} s without clients")
    samples = {name: sample(s.child.pid) for name, s in running.items()}
    return IdleStart(gateway_load.IdleWindow.open(sim), samples)


def _close_idle_window(
    start: IdleStart,
    sim: Simulator,
    running: dict[str, Server],
    options: Options,
    results: dict[str, Any],
) -> None:
    time.sleep(max(0.0, options.idle_seconds - start.window.elapsed()))
    gateway_of = {name: s.gateway_id for name, s in running.items()}
    results["gateway_load"]["idle"] = start.window.close(sim, gateway_of)
    results["footprint"] = {
        name: footprint.idle_footprint(s.child, start.samples[name])
        for name, s in running.items()
        if name != CONTROL
    }
    ours = running["ours"]
    results["footprint"]["ours"]["rss_full_api_mib"] = footprint.rss_with_full_api(
        ours.child, ours.base_url
    )


def _http_phase(
    children: Children,
    sim: Simulator,
    running: dict[str, Server],
    options: Options,
    results: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    ours = running["ours"]
    targets = [_http_target(ours)]
    if "floor" in options.parts:
        answers = servers.capture_answers(ours.base_url, list(options.http.paths))
        port = free_port()
        floor = servers.start_floor(children, options.work, answers, port)
        targets.append(http_bench.HttpTarget("floor", f"http://127.0.0.1:{port}", floor.pid))
    if "peer" in running:
        # The peer runs the cells its targets use (16 and 64 connections): with it at one
        # connection too, a full run would take 25 minutes instead of under 20.
        targets.append(_http_target(running["peer"], PEER_CONNECTIONS))
    # The control server gets no clients: same window, same schedule, the load our clients add.
    say(f"HTTP: {', '.join(t.name for t in targets)}; {options.http}")
    before, started = sim.counts(), time.monotonic()
    results["http"] = http_bench.run_http(targets, options.http, say)
    # Each server polls its own simulated gateway, so the whole phase is one window per server.
    after, seconds = sim.counts(), time.monotonic() - started
    results["gateway_load"]["client_load"] = {
        name: gateway_load.load_summary(
            stats.diff_counts(before.get(s.gateway_id, {}), after.get(s.gateway_id, {})), seconds
        )
        for name, s in running.items()
    }


def _http_target(
    server: Server, connections: tuple[int, ...] | None = None
) -> http_bench.HttpTarget:
    return http_bench.HttpTarget(server.name, server.base_url, server.child.pid, connections)
