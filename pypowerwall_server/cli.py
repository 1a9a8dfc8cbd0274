"""Command line entry point: argv → Settings → run the server, the demo or the simulator.

Heavy modules (app, demo, simulator, pypowerwall) are imported only when needed, so --help,
--version and --check-config stay fast. Invalid configuration: exit code 2 and one line per
problem on stderr, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import TYPE_CHECKING

from pypowerwall_server import __version__
from pypowerwall_server.settings import ConfigError, Settings, load_settings
from pypowerwall_server.settings.advice import environment_warnings, settings_warnings
from pypowerwall_server.settings.args import PROG, parse_command_line
from pypowerwall_server.settings.report import describe

if TYPE_CHECKING:
    from pypowerwall_server.server_tls import HttpsSetup

EXIT_CONFIG = 2
EXIT_NO_TRANSPORT = 1  # --check-config --probe: a gateway has no working transport
V1R_KEY_FILE = "tedapi_rsa_private.pem"  # where pypowerwall's v1r registration keeps the key
Runner = Callable[[list[str]], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the program; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["simulate"]:
        from pypowerwall_server.simulator.cli import simulate_main

        return simulate_main(args[1:])
    namespace, problems = parse_command_line(args)  # --help prints and exits 0 here
    if namespace is not None and namespace.version:
        print(version_text())
        return 0
    if namespace is not None and namespace.probe and not namespace.check_config:
        _print_lines("error", ["--probe (command line): only with --check-config"])
        return EXIT_CONFIG
    if namespace is not None and namespace.setup and not problems:
        return run_setup(namespace.setup, namespace.authpath, namespace.email, os.environ)
    _print_lines("warning", environment_warnings(os.environ))
    try:
        settings = load_settings(args, os.environ)
    except ConfigError as exc:
        _print_lines("error", exc.problems)
        return EXIT_CONFIG
    _print_lines("warning", settings_warnings(settings))
    if namespace is not None and namespace.check_config:
        print(describe(settings))
        return probe(settings) if namespace.probe else 0
    if namespace is not None and namespace.notify_test:
        return notify_test(settings)
    return _run(settings)


def notify_test(settings: Settings) -> int:
    """One test message to each notification URL; 0 when every one was sent."""
    from pypowerwall_server.events.notify import send_test
    from pypowerwall_server.events.wiring import notify_urls

    urls = notify_urls(settings)
    if not urls:
        _print_lines("error", ["PW_NOTIFY_URLS: not set: no URL to test"])
        return EXIT_CONFIG
    lines = send_test(urls)
    print("\n".join(lines))
    return 0 if all(line.endswith(": sent") for line in lines) else EXIT_NO_TRANSPORT


def probe(settings: Settings) -> int:
    """Try each transport of each gateway once; 0 when every gateway has a working one."""
    from pypowerwall_server.gateway.library_log import configure_library_logging
    from pypowerwall_server.gateway.probe import (
        PROBE_DEADLINE_S,
        probe_gateways,
        report_lines,
        working_gateways,
    )

    configure_library_logging(debug=False)  # its words are in the report, not on stderr
    print(f"probe (each transport once, at most {PROBE_DEADLINE_S:g} s):", flush=True)
    results = probe_gateways(settings.gateways)
    print("\n".join(report_lines(results)))
    failed = [gid for gid, works in working_gateways(results).items() if not works]
    if failed:
        print(f"no working transport: {', '.join(failed)}")
        return EXIT_NO_TRANSPORT
    print("every gateway has a working transport")
    return 0


def _run(settings: Settings) -> int:
    from pypowerwall_server.logs import configure_logging

    configure_logging(settings)
    try:
        https = _https_setup(settings)
    except ConfigError as exc:
        _print_lines("error", exc.problems)
        return EXIT_CONFIG
    if settings.demo:
        from pypowerwall_server.demo import run_demo

        run_demo(settings, https)
    else:
        from pypowerwall_server.app import run_server

        run_server(settings, https)
    return 0


def _https_setup(settings: Settings) -> HttpsSetup | None:
    """The certificate, checked (and made, when none is given) before anything starts."""
    if not settings.server.https:
        return None
    from pypowerwall_server.server_tls import https_setup

    return https_setup(settings.server)


def _print_lines(kind: str, lines: list[str]) -> None:
    for line in lines:
        print(f"{kind}: {line}", file=sys.stderr)


def version_text() -> str:
    try:
        library = metadata.version("pypowerwall")
    except metadata.PackageNotFoundError:
        library = "not installed"
    return f"{PROG} {__version__} (pypowerwall {library})"


def run_setup(
    kind: str,
    authpath: str | None,
    email: str | None,
    environ: Mapping[str, str],
    runner: Runner = subprocess.call,
) -> int:
    """Run pypowerwall's own interactive setup (`python -m pypowerwall setup`), which logs in to
    Tesla and writes its auth files (.pypowerwall.auth / .pypowerwall.fleetapi) into authpath.
    v1r: pypowerwall makes the v1r RSA key pair in authpath unless tedapi_rsa_private.pem is
    there already, and registers the public key with the gateway through the Tesla cloud
    (Owner API login, or a Fleet API app); the gateway then asks for a physical proof.

    authpath: --authpath, else PW_AUTHPATH / PW_AUTH_PATH, else the current folder.
    """
    folder, source = _setup_folder(authpath, environ)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        _print_lines("error", [f"{source}: cannot create folder '{folder}': {exc.strerror}"])
        return EXIT_CONFIG
    email = email or environ.get("PW_EMAIL") or None
    command = [sys.executable, "-m", "pypowerwall", "setup", f"-{kind}", "-authpath", folder]
    if kind == "cloud" and email:
        command += ["-email", email]
    print(f"Running pypowerwall {kind} setup; auth files go to {folder}", flush=True)
    try:
        code = runner(command)
    except KeyboardInterrupt:
        return 130
    if code == 0:
        print(_after_setup_hint(kind, folder, email))
    return code


def _setup_folder(authpath: str | None, environ: Mapping[str, str]) -> tuple[str, str]:
    for value, source in (
        (authpath, "--authpath (command line)"),
        (environ.get("PW_AUTHPATH"), "PW_AUTHPATH (environment)"),
        (environ.get("PW_AUTH_PATH"), "PW_AUTH_PATH (environment)"),
    ):
        if value:
            return os.path.abspath(os.path.expanduser(value)), source
    return os.getcwd(), "current folder"


def _after_setup_hint(kind: str, folder: str, email: str | None) -> str:
    if kind == "fleetapi":
        return f"Start the server with: {PROG} --fleetapi --authpath {folder}"
    if kind == "v1r":
        key = os.path.join(folder, V1R_KEY_FILE)
        return (
            f"Once the gateway accepted the key, start the server with: {PROG} --host "
            f"<gateway LAN address> --password <customer password> --rsa-key-path {key}"
        )
    account = email or "<your Tesla account email>"
    return f"Start the server with: {PROG} --email {account} --authpath {folder}"
