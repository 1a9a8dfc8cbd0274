"""Text generated from the settings table for --help: option help and the epilog."""

from __future__ import annotations

import textwrap

from pypowerwall_server.settings.table import (
    CONFIG_ENV,
    CONFIG_HELP,
    SOURCE_ENV,
    TABLE,
    Setting,
    at_level,
)

WIDTH = 94

MODES = """\
modes:
  tedapi    host (default 192.168.91.1) + gw_pwd (the gateway's QR-sticker password)
  local     host + password (customer password); with gw_pwd too, pypowerwall adds TEDAPI
            vitals only when host is 192.168.91.1
  v1r       host (wired LAN) + gw_pwd and/or password + rsa_key_path: TEDAPI over the
            wired LAN, signed with the registered RSA key (pypowerwall's v1r); wifi_host
            (the gateway's Wi-Fi address) then reaches follower Powerwalls
  cloud     email (+ authpath holding the auth file from --setup); PW_EMAIL without
            PW_HOST, PW_GW_PWD and PW_PASSWORD also means cloud mode
  fleetapi  authpath holding the FleetAPI config from --setup fleetapi
"""
TAIL = """\
subcommand:
  pypowerwall-server simulate [options]   run the built-in gateway simulator
                                          (see: pypowerwall-server simulate --help)

exit codes: 0 ok, 1 --check-config --probe found a gateway with no working transport,
            2 invalid configuration (one line per problem on stderr).
"""


def shown_default(setting: Setting) -> str:
    """' (default X)' for --help; empty when there is no default worth naming."""
    text = default_text(setting)
    return f" (default {text})" if text else ""


def default_text(setting: Setting) -> str:
    """The default as the docs show it; empty for none."""
    if setting.secret or (setting.default in (None, ()) and setting.row.unset == "not set"):
        return ""
    return setting.show(setting.default).strip("()")


def _flags(level: str) -> str:
    return ", ".join(s.row.flag for s in TABLE if s.level == level and s.row.flag)


def _wrapped(text: str, indent: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def epilog() -> str:
    precedence = (
        f"{_flags('gateway-default')} (and their PW_* variables) are defaults for every "
        "gateway; a gateway's own value in PW_GATEWAYS or the config file wins over them. "
        f"The single-gateway settings ({_flags('gateway')} and their PW_* variables) cannot "
        "be combined with a gateway list (PW_GATEWAYS or the file's gateways:); PW_GATEWAYS "
        "replaces the file's gateways: list. Empty PW_* variables count as unset. Unknown keys "
        "in the file or PW_GATEWAYS are errors; unknown PW_* variables only give a warning."
    )
    parts = [
        "precedence (highest first):\n  command line > environment (PW_*) > config file "
        f"(--config / {CONFIG_ENV}) > built-in defaults.\n{_wrapped(precedence, '  ')}\n",
        MODES,
        "environment variables:\n" + "\n".join(_environment_lines()) + "\n",
        "config file (YAML or JSON):\n" + "\n".join(_file_lines()) + "\n",
        TAIL,
    ]
    return "\n".join(parts)


def _environment_lines() -> list[str]:
    entries = [(", ".join(s.row.env), _described(s)) for s in TABLE if s.row.env]
    entries += [*SOURCE_ENV.items(), (CONFIG_ENV, CONFIG_HELP)]
    lines = []
    for names, text in entries:
        body = textwrap.wrap(text, WIDTH - 28)
        lines.append(f"  {names:<25} {body[0]}")
        lines.extend(f"{'':<28}{line}" for line in body[1:])
    return lines


def _described(setting: Setting) -> str:
    secret = " (secret)" if setting.secret else ""
    return f"{setting.row.help}{secret}{shown_default(setting)}"


def _file_lines() -> list[str]:
    server = [" / ".join(s.file_keys) for s in at_level("server")]
    defaults = [s.key for s in at_level("gateway-default")]
    gateway = [s.key for s in TABLE if s.level != "server"]
    sections = [
        ("server:   ", f"{{{', '.join(server)}}}"),
        ("defaults: ", f"{{{', '.join(defaults)}}}"),
        ("gateways: ", f"[{{{', '.join(gateway)}}}, ...]"),
    ]
    return [
        textwrap.fill(text, WIDTH, initial_indent=f"  {head}", subsequent_indent=" " * 13)
        for head, text in sections
    ]
