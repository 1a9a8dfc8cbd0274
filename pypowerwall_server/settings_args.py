"""The command line: option definitions, --help text, and parsing into (Namespace, problems).

Every value option is parsed as a plain string; settings validation converts it, so the command
line, the environment and the file give the same error messages.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

PROG = "pypowerwall-server"
SETUP_KINDS = ("cloud", "fleetapi")

EPILOG = """\
precedence (highest first):
  command line > environment (PW_*) > config file (--config / PW_CONFIG) > built-in defaults.
  --authpath, --timezone, --cache-expire and --timeout (and their PW_* variables) are defaults
  for every gateway; a gateway's own value in PW_GATEWAYS or the config file wins over them.
  The single-gateway settings (--host, --gw-pwd, --password, --email, --siteid, --cloud,
  --fleetapi and their PW_* variables) cannot be combined with a gateway list
  (PW_GATEWAYS or the file's gateways:); PW_GATEWAYS replaces the file's gateways: list.
  Empty PW_* variables count as unset. Unknown keys in the file or PW_GATEWAYS are errors;
  unknown PW_* variables only give a warning.

modes:
  tedapi    host (default 192.168.91.1) + gw_pwd (the gateway's QR-sticker password)
  local     host + password (customer password); with gw_pwd too, pypowerwall adds TEDAPI
            vitals only when host is 192.168.91.1
  cloud     email (+ authpath holding the auth file from --setup); PW_EMAIL without
            PW_HOST, PW_GW_PWD and PW_PASSWORD also means cloud mode
  fleetapi  authpath holding the FleetAPI config from --setup fleetapi

environment variables:
  PW_HOST                   gateway address, "192.168.91.1" or "host:port"
  PW_GW_PWD                 gateway password for TEDAPI (secret)
  PW_PASSWORD               local customer password (secret)
  PW_EMAIL                  Tesla account email (cloud mode)
  PW_SITEID                 Tesla energy site id (cloud/FleetAPI, several sites)
  PW_CLOUD_MODE             yes/no: use the Tesla cloud
  PW_FLEETAPI               yes/no: use the Tesla FleetAPI
  PW_AUTHPATH, PW_AUTH_PATH folder of cloud/FleetAPI auth files (default: current folder)
  PW_TIMEZONE               gateway time zone (default America/Los_Angeles)
  PW_CACHE_EXPIRE           poll interval in seconds (default 5)
  PW_TIMEOUT                timeout of one gateway call in seconds (default 5)
  PW_GATEWAYS               JSON array of gateway objects (several gateways)
  PW_CONFIG                 YAML or JSON config file
  PW_PORT                   listen port (default 8675)
  PW_BIND_ADDRESS           listen address (default 0.0.0.0)
  PW_CORS_ORIGINS           comma-separated allowed origins (default: same origin only)
  PW_DEBUG                  yes/no: debug logging (default no)
  PW_NEG_SOLAR              yes/no: keep negative solar power; no moves it into load and
                            reports solar 0 (default yes)
  PW_SITE_ZERO_THRESHOLD    site power within +/- this many W is reported as 0 (default 0)
  PW_STALE_AFTER_INTERVALS  data older than this many poll intervals is stale (default 3)
  PW_HTTPS                  yes/no: also serve HTTPS on PW_HTTPS_PORT beside HTTP (default no)
  PW_HTTPS_PORT             HTTPS listen port (default 8775)
  PW_TLS_CERT, PW_TLS_KEY   PEM certificate and key for HTTPS (default: a self-signed one,
                            generated once into PW_DATA_DIR; its fingerprint is logged)
  PW_DATA_DIR               folder for files the server makes itself
                            (default ~/.local/state/pypowerwall-server)

config file (YAML or JSON):
  server:   {host (the bind address), port, cors_origins, debug, neg_solar,
             site_zero_threshold, stale_after_intervals, https, https_port, tls_cert,
             tls_key, data_dir}
  defaults: {authpath, timezone, poll_interval, timeout}
  gateways: [{id, name, host, gw_pwd, password, email, authpath, timezone, siteid,
              cloud_mode, fleetapi, poll_interval, timeout}, ...]

subcommand:
  pypowerwall-server simulate [options]   run the built-in gateway simulator
                                          (see: pypowerwall-server simulate --help)

exit codes: 0 ok, 2 invalid configuration (one line per problem on stderr).
"""


class _ParseError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # raise instead of printing usage and exiting
        raise _ParseError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Poll Tesla Powerwall gateways gently and serve their state from memory.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    _add_gateway_options(parser.add_argument_group("single gateway"))
    _add_default_options(parser.add_argument_group("defaults for every gateway"))
    _add_server_options(parser.add_argument_group("server"))
    _add_actions(parser.add_argument_group("actions"))
    return parser


def _add_gateway_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--host", metavar="H", help="gateway address, IP or host:port [PW_HOST]")
    group.add_argument(
        "--gw-pwd",
        metavar="P",
        help="gateway (QR sticker) password for TEDAPI [PW_GW_PWD]; "
        "secrets on the command line show in the process list, prefer the variable",
    )
    group.add_argument("--password", metavar="P", help="local customer password [PW_PASSWORD]")
    group.add_argument("--email", metavar="E", help="Tesla account email, cloud mode [PW_EMAIL]")
    group.add_argument("--siteid", metavar="N", help="Tesla energy site id [PW_SITEID]")
    group.add_argument(
        "--cloud", action="store_true", default=None, help="use the Tesla cloud [PW_CLOUD_MODE]"
    )
    group.add_argument(
        "--fleetapi", action="store_true", default=None, help="use Tesla FleetAPI [PW_FLEETAPI]"
    )


def _add_default_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--authpath", metavar="DIR", help="auth files folder [PW_AUTHPATH]")
    group.add_argument("--timezone", metavar="TZ", help="time zone [PW_TIMEZONE]")
    group.add_argument(
        "--cache-expire", metavar="S", help="poll interval, seconds (default 5) [PW_CACHE_EXPIRE]"
    )
    group.add_argument(
        "--timeout", metavar="S", help="gateway call timeout, seconds (default 5) [PW_TIMEOUT]"
    )


def _add_server_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--config", metavar="FILE", help="YAML or JSON config file [PW_CONFIG]")
    group.add_argument("--port", metavar="N", help="listen port (default 8675) [PW_PORT]")
    group.add_argument(
        "--bind-address", metavar="A", help="listen address (default 0.0.0.0) [PW_BIND_ADDRESS]"
    )
    group.add_argument(
        "--debug", action="store_true", default=None, help="debug logging [PW_DEBUG]"
    )
    group.add_argument(
        "--https",
        action="store_true",
        default=None,
        help="also serve HTTPS on --https-port beside plain HTTP [PW_HTTPS]",
    )
    group.add_argument(
        "--https-port", metavar="N", help="HTTPS listen port (default 8775) [PW_HTTPS_PORT]"
    )
    group.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="PEM certificate for HTTPS (default: self-signed, made once) [PW_TLS_CERT]",
    )
    group.add_argument("--tls-key", metavar="FILE", help="PEM key of --tls-cert [PW_TLS_KEY]")
    group.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder for the generated certificate "
        "(default ~/.local/state/pypowerwall-server) [PW_DATA_DIR]",
    )


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
        "write its auth files into --authpath (default: current folder), then exit",
    )
    group.add_argument(
        "--check-config",
        action="store_true",
        help="print the resolved configuration (secrets as ***) and exit",
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
