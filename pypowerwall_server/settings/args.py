"""The command line: options (from the settings table), --help, parsing into (Namespace, problems).

Every value option is parsed as a plain string; settings validation converts it, so the command
line, the environment and the file give the same error messages.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from pypowerwall_server.settings.docs import epilog, shown_default
from pypowerwall_server.settings.row import Level
from pypowerwall_server.settings.table import CONFIG_ENV, CONFIG_FLAG, CONFIG_HELP, at_level

PROG = "pypowerwall-server"
SETUP_KINDS = ("cloud", "fleetapi", "v1r")

GROUPS: tuple[tuple[Level, str], ...] = (
    ("gateway", "single gateway"),
    ("gateway-default", "defaults for every gateway"),
    ("server", "server"),
)
SECRET_NOTE = "; on the command line it shows in the process list, prefer the variable"


class _ParseError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # raise instead of printing usage and exiting
        raise _ParseError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Poll Tesla Powerwall gateways gently and serve their state from memory.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    groups = {level: parser.add_argument_group(title) for level, title in GROUPS}
    for level, group in groups.items():
        _add_setting_options(group, level)
    config_help = f"{CONFIG_HELP} [{CONFIG_ENV}]"
    groups["server"].add_argument(CONFIG_FLAG, metavar="FILE", help=config_help)
    _add_actions(parser.add_argument_group("actions"))
    return parser


def _add_setting_options(group: argparse._ArgumentGroup, level: Level) -> None:
    for setting in at_level(level):
        if setting.row.flag is None:
            continue
        env = "/".join(setting.row.env)
        text = f"{setting.row.help}{shown_default(setting)} [{env}]"
        if setting.switch:
            group.add_argument(setting.row.flag, action="store_true", default=None, help=text)
            continue
        text += SECRET_NOTE if setting.secret else ""
        group.add_argument(setting.row.flag, metavar=setting.row.metavar, help=text)


def _add_actions(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--demo", action="store_true", help="serve simulated gateways; no hardware needed"
    )
    group.add_argument(
        "--setup",
        nargs="?",
        const="cloud",
        choices=SETUP_KINDS,
        help="run pypowerwall's interactive Tesla login (cloud, the default, or fleetapi) and "
        "write its auth files into --authpath (default: current folder), then exit; v1r: "
        "make the RSA key for v1r (tedapi_rsa_private.pem in --authpath, kept when it "
        "exists) and register it with the gateway through the Tesla cloud",
    )
    group.add_argument(
        "--check-config",
        action="store_true",
        help="print the resolved configuration (secrets as ***) and exit",
    )
    group.add_argument(
        "--probe",
        action="store_true",
        help="with --check-config: also try each transport of each gateway once (at most "
        "10 s each, all at once) and print ok or why not (refused, timeout, auth failed, "
        "TLS, busy, degraded, unreachable); exit 1 when a gateway has no working transport",
    )
    group.add_argument(
        "--notify-test",
        action="store_true",
        help="send one test message to each PW_NOTIFY_URLS URL and report per URL (shown "
        "as #n (scheme), never the URL); exit 1 when one fails",
    )
    group.add_argument("--version", action="store_true", help="print versions and exit")


def parse_command_line(argv: Sequence[str]) -> tuple[argparse.Namespace | None, list[str]]:
    """Parse argv; returns (namespace or None when unusable, problems)."""
    try:
        namespace, extras = build_parser().parse_known_args(list(argv))
    except _ParseError as exc:
        return None, [f"command line: {exc}"]
    return namespace, [_extra_problem(index, token) for index, token in enumerate(extras, 1)]


def _extra_problem(index: int, token: str) -> str:
    if token == "simulate":
        return "simulate (command line): must be the first argument: pypowerwall-server simulate"
    if token.startswith("-"):
        option = token.split("=", 1)[0]  # never echo a value given as --opt=value
        return f"{option} (command line): unknown option"
    return f"command line: unexpected argument #{index} (value not shown)"
