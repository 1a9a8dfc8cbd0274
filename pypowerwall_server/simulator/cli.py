"""`pypowerwall-server simulate`: run M simulated gateways and print the configuration our
server needs to talk to them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TextIO

import orjson
import yaml

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningGateway, SimulatorCluster
from pypowerwall_server.simulator.v1r_auth import BadKey, public_key_der

MAX_GATEWAYS = 1000


class UsageError(Exception):
    """Invalid command-line arguments (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pypowerwall-server simulate",
        description="Run simulated Tesla Energy Gateways (HTTPS) plus an admin API.",
    )
    add = parser.add_argument
    add("--gateways", type=int, default=1, metavar="M", help="number of gateways (default 1)")
    add("--port", type=int, default=0, metavar="P", help="gateway i listens on P+i (0 = free)")
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--seed", type=int, default=0, help="seed for the simulated sites (default 0)")
    add("--acceleration", type=float, default=1.0, metavar="X", help="simulated time speed")
    add("--powerwalls", type=int, default=None, metavar="N", help="Powerwalls per gateway")
    add("--admin-port", type=int, default=0, metavar="A", help="admin API port (0 = free)")
    add("--admin-token", default=None, metavar="T", help="admin API token (default random)")
    add("--cert", type=Path, default=None, metavar="F", help="TLS certificate (PEM)")
    add("--key", type=Path, default=None, metavar="F", help="TLS private key (PEM)")
    add("--duration", type=float, default=None, metavar="SECONDS", help="stop after SECONDS")
    add("--fleet-api", action="store_true", help="also serve the Tesla Fleet API for every site")
    add("--fleet-api-port", type=int, default=0, metavar="F", help="its port (0 = free)")
    add(
        "--v1r-key",
        type=Path,
        default=None,
        metavar="PEM",
        help="register this RSA-4096 public key for v1r on every gateway",
    )
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    args = build_parser().parse_args(list(argv))
    _check(args)
    return args


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.gateways <= MAX_GATEWAYS:
        raise UsageError(f"--gateways must be between 1 and {MAX_GATEWAYS}")
    if args.port != 0 and not (args.port >= 1 and args.port + args.gateways - 1 <= 65535):
        raise UsageError("--port P needs P..P+M-1 within 1..65535 (or 0 for free ports)")
    if not 0 <= args.admin_port <= 65535:
        raise UsageError("--admin-port must be between 0 and 65535")
    if not args.acceleration > 0:
        raise UsageError("--acceleration must be > 0")
    if args.powerwalls is not None and not 1 <= args.powerwalls <= 12:
        raise UsageError("--powerwalls must be between 1 and 12")
    if args.duration is not None and not args.duration > 0:
        raise UsageError("--duration must be > 0")
    if (args.cert is None) != (args.key is None):
        raise UsageError("--cert and --key go together")
    for path in (args.cert, args.key):
        if path is not None and not path.is_file():
            raise UsageError(f"no such file: {path}")
    if not 0 <= args.fleet_api_port <= 65535:
        raise UsageError("--fleet-api-port must be between 0 and 65535")
    if args.fleet_api_port and not args.fleet_api:
        raise UsageError("--fleet-api-port needs --fleet-api")
    if args.v1r_key is not None:
        if not args.v1r_key.is_file():
            raise UsageError(f"no such file: {args.v1r_key}")
        try:
            public_key_der(args.v1r_key.read_bytes())
        except BadKey as exc:
            raise UsageError(f"--v1r-key {args.v1r_key}: {exc}") from exc
    if args.admin_token is not None and not args.admin_token.strip():
        raise UsageError("--admin-token must not be empty")


def site_configs(args: argparse.Namespace) -> list[SiteConfig]:
    configs = []
    for i in range(args.gateways):
        config = replace(SiteConfig.for_index(i, args.seed), time_acceleration=args.acceleration)
        if args.powerwalls is not None:
            config = replace(config, powerwalls=args.powerwalls)
        configs.append(config)
    return configs


def gateway_entries(gateways: Sequence[RunningGateway]) -> list[dict[str, Any]]:
    """Our server's gateway configuration for these simulated gateways: TEDAPI mode (with a
    customer password too, pypowerwall would use the local API and leave gw_pwd unused)."""
    return [{"id": g.id, "host": g.host, "gw_pwd": g.config.gw_pwd} for g in gateways]


def local_logins(gateways: Sequence[RunningGateway]) -> str:
    """The customer logins, for reading over the local API instead of TEDAPI."""
    logins = ", ".join(
        f"{g.id}: password {g.config.customer_password}, email {g.config.customer_email}"
        for g in gateways
    )
    return f"# Local API instead of TEDAPI: replace gw_pwd with password and email ({logins})"


def print_ready(cluster: SimulatorCluster, out: TextIO) -> None:
    entries = gateway_entries(cluster.gateways)
    lines = [
        f"Simulating {len(entries)} gateway(s); Ctrl-C to stop.",
        f"Admin API: {cluster.admin_url}",
        f"Admin token: {cluster.admin_token}",
        "",
        "# Environment:",
        f"PW_GATEWAYS={shlex.quote(orjson.dumps(entries).decode())}",
        "",
        "# YAML:",
        yaml.safe_dump({"gateways": entries}, sort_keys=False).rstrip(),
        "",
        local_logins(cluster.gateways),
    ]
    if cluster.fleet_api_url is not None:
        lines += [
            "",
            f"Fleet API: {cluster.fleet_api_url} (the AUDIENCE of .pypowerwall.fleetapi)",
            "Per gateway: GET <admin>/gateways/<id>/fleetapi_config gives that file's contents;",
            "GET <admin>/fleetapi gives the CA to add to REQUESTS_CA_BUNDLE / SSL_CERT_FILE.",
        ]
    out.write("\n".join(lines) + "\n")
    out.flush()


async def run(args: argparse.Namespace, out: TextIO) -> None:
    cluster = SimulatorCluster(
        site_configs(args),
        host=args.host,
        base_port=args.port or None,
        admin_port=args.admin_port,
        admin_token=args.admin_token,
        cert_path=args.cert,
        key_path=args.key,
        fleet_api=args.fleet_api,
        fleet_api_port=args.fleet_api_port,
    )
    async with cluster:
        if args.v1r_key is not None:
            pem = args.v1r_key.read_bytes()
            for gateway in cluster.gateways:
                if isinstance(gateway.app, SimulatedGateway):
                    gateway.app.register_v1r_key(pem)
        print_ready(cluster, out)
        await _wait_for_stop(args.duration)


async def _wait_for_stop(duration: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), duration)


def simulate_main(argv: Sequence[str]) -> int:
    try:
        args = parse_args(argv)
    except UsageError as exc:
        print(f"pypowerwall-server simulate: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        asyncio.run(run(args, sys.stdout))
    except OSError as exc:
        print(f"pypowerwall-server simulate: cannot listen: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(simulate_main(sys.argv[1:]))
