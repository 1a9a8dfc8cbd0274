"""load_settings(): merge every source into one frozen Settings, or raise ConfigError.

Precedence, highest first: command line > environment (PW_*) > config file > built-in defaults.
Gateway-wide defaults (the table's gateway-default rows, e.g. timeout) follow the same order,
and a gateway's own value (PW_GATEWAYS / the file's gateways:) beats all of them.
The single gateway (PW_HOST, --host, ...; id "default") and a gateway list are exclusive;
PW_GATEWAYS replaces the file's list. Empty PW_* variables count as unset; PW_EMAIL with no
PW_HOST/PW_GW_PWD/PW_PASSWORD means cloud mode (the pypowerwall proxy's rule).
Invalid input raises ConfigError listing every problem, each naming key and source; messages
never contain a secret value. Unknown keys in the file or PW_GATEWAYS are errors; unknown PW_*
variables are not (the environment is shared), see settings.advice.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from pypowerwall_server.settings.args import parse_command_line
from pypowerwall_server.settings.models import (
    DEFER_CHECKS,
    ConfigError,
    GatewayConfig,
    ServerConfig,
    Settings,
)
from pypowerwall_server.settings.row import OtherSettingRule
from pypowerwall_server.settings.rules import gateway_problems
from pypowerwall_server.settings.sources import (
    CLI,
    ENV,
    Fields,
    GatewayEntry,
    Layer,
    Raw,
    command_line_layer,
    environment_layer,
    file_layer,
)
from pypowerwall_server.settings.table import TABLE, at_level

SECRET_FIELDS = frozenset(setting.key for setting in TABLE if setting.secret)
EXPECTED = {setting.key: setting.row.expected for setting in TABLE}  # for "must be ..., got ..."
SINGLE_NAMES = {  # how the single gateway's settings are named in messages: PW_HOST/--host
    setting.key: "/".join(name for name in (*setting.row.env[:1], setting.row.flag) if name)
    for setting in at_level("gateway")
}
SERVER_NAMES = {  # the same for server settings: PW_TLS_KEY/--tls-key
    setting.key: "/".join(name for name in (*setting.row.env[:1], setting.row.flag) if name)
    for setting in at_level("server")
}


def load_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Resolve Settings from argv (without the program name) and environ. Reads no globals."""
    namespace, problems = parse_command_line(argv)
    if namespace is None:
        raise ConfigError(problems)
    cli, env = command_line_layer(namespace), environment_layer(environ)
    file = _file_layer(namespace, environ)
    for layer in (cli, env, file):
        problems.extend(layer.problems)
    server_fields = _merged(file.server, env.server, cli.server)
    server, _ = _build_model(ServerConfig, server_fields, problems)
    if isinstance(server, ServerConfig):
        problems.extend(_server_problems(server, server_fields))
    gateways = _build_gateways(cli, env, file, problems)
    if gateways == [] and not namespace.demo and not (env.broken or file.broken):
        problems.append(
            "gateways (all sources): no gateway configured; set PW_HOST with PW_GW_PWD or "
            "PW_PASSWORD, or PW_EMAIL (cloud), or PW_GATEWAYS, or --config FILE; or use --demo"
        )
    if problems or not isinstance(server, ServerConfig):
        raise ConfigError(list(dict.fromkeys(problems)))  # a bad default repeats per gateway
    valid = tuple(gateway for gateway in gateways if gateway is not None)
    return Settings(server=server, gateways=valid, demo=namespace.demo)


def _server_problems(server: ServerConfig, fields: Fields) -> list[str]:
    """Cross-field rules of the HTTPS listener, naming the keys as the user wrote them."""

    def name(key: str) -> str:
        return fields[key].label if key in fields else f"server.{key} (default)"

    problems = []
    if (server.tls_cert is None) != (server.tls_key is None):
        given, missing = (
            ("tls_cert", "tls_key") if server.tls_key is None else ("tls_key", "tls_cert")
        )
        problems.append(f"{name(given)}: needs {SERVER_NAMES[missing]} too")
    if server.https and server.https_port == server.port:
        problems.append(f"{name('https_port')}: must differ from {name('port')} ({server.port})")
    if server.notify_urls is not None:  # Apprise loads only when URLs are set
        from pypowerwall_server.settings.notify_urls import url_problems

        urls = server.notify_urls.get_secret_value()
        problems.extend(f"{name('notify_urls')}: {problem}" for problem in url_problems(urls))
    return problems


def _file_layer(namespace: argparse.Namespace, environ: Mapping[str, str]) -> Layer:
    if namespace.config is not None:
        return file_layer(namespace.config, f"--config ({CLI})")
    if environ.get("PW_CONFIG"):
        return file_layer(environ["PW_CONFIG"], f"PW_CONFIG ({ENV})")
    return Layer()


def _merged(*layers: Fields) -> Fields:
    """Later layers win."""
    result: Fields = {}
    for layer in layers:
        result.update(layer)
    return result


def _build_gateways(
    cli: Layer, env: Layer, file: Layer, problems: list[str]
) -> list[GatewayConfig | None]:
    """One entry per configured gateway, None where it is invalid (problems say why)."""
    single = _merged(env.single, cli.single)
    listed = env if env.gateways is not None else file
    if single and listed.gateways is not None:
        first = next(iter(single.values())).label
        problems.append(
            f"{first}: single-gateway settings cannot be combined with {listed.gateways_label}; "
            "put this gateway into the list instead"
        )
        return [None]
    defaults = _merged(file.defaults, env.defaults, cli.defaults)
    entries = [_single_entry(single)] if single else _with_default_id(listed.gateways or [])
    gateways = [_build_gateway(entry, defaults, problems) for entry in entries]
    problems.extend(_duplicate_ids(entries))
    return gateways


def _single_entry(fields: Fields) -> GatewayEntry:
    fields = {"id": Raw("default", "single gateway"), **fields}
    if not ({"host", "gw_pwd", "password", "fleetapi"} & fields.keys()) and "email" in fields:
        fields["cloud_mode"] = fields.get("cloud_mode", Raw(True, fields["email"].label))
    return GatewayEntry(fields, "single gateway (environment/command line)", "", "")


def _with_default_id(entries: list[GatewayEntry]) -> list[GatewayEntry]:
    if len(entries) != 1 or "id" in entries[0].fields:
        return entries
    entry = entries[0]
    return [GatewayEntry({"id": Raw("default", entry.label), **entry.fields}, *_rest(entry))]


def _rest(entry: GatewayEntry) -> tuple[str, str, str]:
    return entry.label, entry.prefix, entry.source


CONNECTION_KEYS = frozenset({"host", "gw_pwd", "password", "email", "cloud_mode", "fleetapi"})


def _build_gateway(
    entry: GatewayEntry, defaults: Fields, problems: list[str]
) -> GatewayConfig | None:
    if "id" not in entry.fields:
        problems.append(f"{entry.prefix}id ({entry.source}): required with several gateways")
        return None
    fields = _merged(defaults, entry.fields)
    gateway, bad = _build_model(GatewayConfig, fields, problems, entry.label)
    if bad and not bad & CONNECTION_KEYS:  # still check the credentials, with bad values dropped
        usable = {key: raw for key, raw in fields.items() if key not in bad}
        gateway, _ = _build_model(GatewayConfig, usable, [], entry.label)
    if not isinstance(gateway, GatewayConfig):
        return None
    found = gateway_problems(gateway, lambda key: _key_name(entry, key))
    for trigger, message in found:
        label = fields[trigger].label if trigger in fields else entry.label
        problems.append(f"{label}: {message}")
    return None if found or bad else gateway


def _key_name(entry: GatewayEntry, key: str) -> str:
    return SINGLE_NAMES.get(key, key) if entry.prefix == "" else f"{entry.prefix}{key}"


def _duplicate_ids(entries: list[GatewayEntry]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for entry in entries:
        raw = entry.fields.get("id")
        if raw is None or not isinstance(raw.value, str):
            continue
        if raw.value in seen:
            problems.append(f"{raw.label}: duplicate id {raw.value!r}")
        seen.add(raw.value)
    return problems


def _build_model(
    model: type[BaseModel], fields: Fields, problems: list[str], whole: str = "settings"
) -> tuple[BaseModel | None, set[str]]:
    """Validate raw values into `model`; on failure add one labelled line per bad field.

    Returns (model or None, names of the bad fields).
    """
    values = {key: raw.value for key, raw in fields.items()}
    try:
        return model.model_validate(values, context={DEFER_CHECKS: True}), set()
    except ValidationError as exc:
        rules: dict[str, str] = {}
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, OtherSettingRule):
                rules[key] = str(cause)
        bad = {str(error["loc"][0]) if error["loc"] else "" for error in exc.errors()}
        for key in sorted(bad):
            problems.append(_field_problem(key, fields.get(key), whole, rules.get(key)))
        return None, bad


def _field_problem(key: str, raw: Raw | None, whole: str, rule: str | None = None) -> str:
    label = raw.label if raw is not None else f"{key} ({whole})"
    if rule is not None:  # the value is fine on its own: say which rule it breaks
        return f"{label}: {rule}"
    expected = EXPECTED.get(key, "valid")
    if raw is None or key in SECRET_FIELDS:
        return f"{label}: must be {expected}"
    return f"{label}: must be {expected}, got {_show(raw.value)}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
