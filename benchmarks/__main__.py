"""`python -m benchmarks [--quick] [--peer] [--only PARTS] [--duration S] [--out DIR]`."""

from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks import failover, report, targets
from benchmarks.http_bench import CONNECTIONS, PATHS, Plan
from benchmarks.mqtt_bench import mosquitto_path
from benchmarks.procs import ReadyTimeout
from benchmarks.suite import ALL_PARTS, HTTP_PARTS, Options, run_suite
from benchmarks.wrk import WrkMissing, WrkOutputError, wrk_path
from benchmarks.ws import CLIENT_COUNTS as WS_CLIENTS

EXIT_USAGE, EXIT_NO_TOOL, EXIT_FAILED = 2, 3, 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    add = parser.add_argument
    add("--quick", action="store_true", help="short everyday run (a few minutes)")
    add("--peer", action="store_true", help="also measure upstream pypowerwall-server 0.13.0")
    add("--only", default=None, help=f"comma-separated parts: {','.join(ALL_PARTS)}")
    add("--duration", type=int, default=None, metavar="S", help="seconds per HTTP cell")
    add("--rounds", type=int, default=None, help="interleaved HTTP rounds (default 3, quick 1)")
    add("--scale-k", type=_int_list, default=None, metavar="K,K", help="gateway counts for scale")
    add("--out", type=Path, default=Path("bench-results"), help="JSON results folder")
    add("--work", type=Path, default=None, help="work folder (default OUT/work)")
    return parser


def _int_list(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected positive integers, e.g. 1,10,100")
    return values


def parse_parts(only: str | None, with_peer: bool) -> frozenset[str]:
    if only is None:
        parts = set(ALL_PARTS) - ({"peer"} if not with_peer else set())
        return frozenset(parts)
    parts = {p.strip() for p in only.split(",") if p.strip()}
    unknown = parts - set(ALL_PARTS)
    if unknown:
        raise ValueError(f"unknown part(s): {', '.join(sorted(unknown))}")
    return frozenset(parts | ({"peer"} if with_peer else set()))


def make_options(args: argparse.Namespace) -> Options:
    quick = bool(args.quick)
    seconds = args.duration or (2 if quick else 10)
    plan = Plan(
        paths=PATHS,
        connections=(16, 64) if quick else CONNECTIONS,
        seconds=seconds,
        rounds=args.rounds or (1 if quick else 3),
        warmup_seconds=1,
    )
    return Options(
        parts=parse_parts(args.only, args.peer),
        http=plan,
        idle_seconds=10.0 if quick else 60.0,
        scale_ks=args.scale_k or ((100,) if quick else (1, 10, 100, 500)),
        scale_observe_seconds=12.0 if quick else 20.0,
        ws_clients=(1_000,) if quick else WS_CLIENTS,
        ws_seconds=8.0 if quick else 15.0,
        work=(args.work or args.out / "work").resolve(),
        failover=failover.QUICK if quick else failover.FULL,
        abuse_rounds=3 if quick else 5,
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through Children, which stops every child


def preflight(args: argparse.Namespace) -> Options | int:
    """The options, or an exit status when they are unusable or wrk is missing."""
    try:
        options = make_options(args)
    except ValueError as exc:
        print(f"python -m benchmarks: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if "mqtt" in options.parts:
        try:
            mosquitto_path()
        except RuntimeError as exc:
            print(f"python -m benchmarks: {exc}", file=sys.stderr)
            return EXIT_NO_TOOL
    if options.parts & (HTTP_PARTS | {"mqtt", "abuse"}):
        try:
            wrk_path()
        except WrkMissing as exc:
            print(f"python -m benchmarks: {exc}", file=sys.stderr)
            return EXIT_NO_TOOL
    return options


def measure(options: Options) -> dict[str, Any] | int:
    """Run the suite; an exit status if it was interrupted or failed (children all stopped)."""
    # SIGINT too: a shell may start us with SIGINT ignored (background jobs).
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        return run_suite(options, lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("interrupted; every child process stopped", file=sys.stderr)
        return 130
    except (ReadyTimeout, WrkOutputError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        print(f"every child process stopped; their logs: {options.work / 'logs'}", file=sys.stderr)
        return EXIT_FAILED


def meta(argv: list[str], options: Options, quick: bool, elapsed: float) -> dict[str, Any]:
    return {
        "command": shlex.join(["python", "-m", "benchmarks", *argv]),
        "mode": "quick (idle phase and scale windows shortened)" if quick else "full",
        "elapsed_s": elapsed,
        "machine": report.machine(),
        "options": {
            "parts": sorted(options.parts),
            "http": options.http.__dict__,
            "idle_seconds": options.idle_seconds,
            "scale_ks": options.scale_ks,
            "scale_observe_seconds": options.scale_observe_seconds,
            "ws_clients": options.ws_clients,
            "ws_seconds": options.ws_seconds,
            "failover": options.failover.__dict__,
        },
    }


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    options = preflight(args)
    if isinstance(options, int):
        return options
    started = time.monotonic()
    print(f"benchmarks: parts {', '.join(sorted(options.parts))}", flush=True)
    results = measure(options)
    if isinstance(results, int):
        return results
    results["meta"] = meta(argv, options, args.quick, time.monotonic() - started)
    report.write_json(args.out, results, [])  # first, so a bug in reporting loses nothing
    rows = targets.evaluate(results)
    print()
    print(report.full_report(results, rows))
    path = report.write_json(args.out, results, rows)
    print(f"\nJSON: {path}  ({results['meta']['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
