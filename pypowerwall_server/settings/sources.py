"""Raw settings from each source (command line, environment, file), each value tagged with a
label saying where it came from, so a problem can name 'PW_PORT (environment)' or
'gateways[1].id (file gateways.yaml)'. No validation of values here, only of shape and keys.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from pypowerwall_server.settings.document import (
    DocumentProblem,
    load_json,
    load_yaml,
    read_config_text,
)
from pypowerwall_server.settings.table import TABLE, at_level, gateway_keys

# Derived from the settings table: PW_* variable -> key, key -> flag, file key -> key
SINGLE_ENV = {env: s.key for s in at_level("gateway") for env in s.row.env}
DEFAULTS_ENV = {env: s.key for s in at_level("gateway-default") for env in s.row.env}
SERVER_ENV = {env: s.key for s in at_level("server") for env in s.row.env}
SINGLE_CLI = {s.key: s.row.flag for s in at_level("gateway") if s.row.flag}
DEFAULTS_CLI = {s.key: s.row.flag for s in at_level("gateway-default") if s.row.flag}
SERVER_CLI = {s.key: s.row.flag for s in at_level("server") if s.row.flag}
GATEWAY_KEYS = gateway_keys()
DEFAULT_FILE_KEYS = {s.key: s.key for s in at_level("gateway-default")}
SERVER_FILE_KEYS = {name: s.key for s in at_level("server") for name in s.file_keys}
# The `mqtt:` section of a file: the server's mqtt_* settings without their prefix
MQTT_FILE_KEYS = {k.removeprefix("mqtt_"): k for k in SERVER_FILE_KEYS if k.startswith("mqtt_")}
ALIASES = {s.key: s.row.env for s in TABLE if len(s.row.env) > 1}  # key -> its PW_* names
SAME_SETTING = {s.key: " and ".join(s.file_keys) for s in TABLE if s.row.file_aliases}
ENV = "environment"
CLI = "command line"


@dataclass(frozen=True)
class Raw:
    """One raw value and where it came from, e.g. label 'PW_PORT (environment)'."""

    value: object
    label: str


Fields = dict[str, Raw]


@dataclass(frozen=True)
class GatewayEntry:
    """One gateway object from a list (or the single gateway), before validation."""

    fields: Fields
    label: str  # the whole entry, e.g. 'gateways[1] (file x.yaml)'
    prefix: str  # key prefix, e.g. 'gateways[1].'; '' for the single gateway
    source: str  # e.g. 'file x.yaml'


@dataclass
class Layer:
    """Everything one source contributed."""

    server: Fields = field(default_factory=dict)
    defaults: Fields = field(default_factory=dict)
    single: Fields = field(default_factory=dict)
    gateways: list[GatewayEntry] | None = None
    gateways_label: str = ""
    problems: list[str] = field(default_factory=list)
    broken: bool = False  # unreadable/unparsable: it may have held gateways


def _unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"unknown key; did you mean '{close[0]}'?" if close else "unknown key"


def environment_layer(environ: Mapping[str, str]) -> Layer:
    """PW_* variables; empty values count as unset."""
    env = {key: value for key, value in environ.items() if value != ""}
    layer = Layer()
    for table, target in ((SINGLE_ENV, layer.single), (DEFAULTS_ENV, layer.defaults)):
        for name, key in table.items():
            if name in env and key not in target:
                target[key] = Raw(env[name], f"{name} ({ENV})")
    for name, key in SERVER_ENV.items():
        if name in env:
            layer.server[key] = Raw(env[name], f"{name} ({ENV})")
    for first, *others in ALIASES.values():
        for other in others:
            if first in env and other in env and env[first] != env[other]:
                layer.problems.append(f"{other} ({ENV}): differs from {first}; set only one")
    if "PW_GATEWAYS" in env:
        _add_gateways_json(layer, env["PW_GATEWAYS"])
    return layer


def _add_gateways_json(layer: Layer, text: str) -> None:
    label = f"PW_GATEWAYS ({ENV})"
    try:
        data = load_json(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, _DuplicateKey, DocumentProblem) as exc:
        layer.problems.append(f"{label}: invalid JSON: {exc}")
        layer.broken = True
        return
    layer.gateways_label = label
    layer.gateways = gateway_entries(data, "PW_GATEWAYS", ENV, layer.problems)
    layer.broken = not isinstance(data, list)


def command_line_layer(namespace: argparse.Namespace) -> Layer:
    layer = Layer()
    tables = (
        (SINGLE_CLI, layer.single),
        (DEFAULTS_CLI, layer.defaults),
        (SERVER_CLI, layer.server),
    )
    for table, target in tables:
        for key, flag in table.items():
            value = getattr(namespace, flag.removeprefix("--").replace("-", "_"))
            if value is not None:
                target[key] = Raw(value, f"{flag} ({CLI})")
    return layer


def gateway_entries(data: Any, prefix: str, source: str, problems: list[str]) -> list[GatewayEntry]:
    """A JSON/YAML list of gateway objects → entries; shape problems go to `problems`."""
    if not isinstance(data, list):
        problems.append(f"{prefix} ({source}): must be a list of gateway objects")
        return []
    entries = []
    for index, item in enumerate(data):
        item_prefix = f"{prefix}[{index}]."
        if not isinstance(item, dict):
            problems.append(f"{prefix}[{index}] ({source}): must be an object with keys like id")
            continue
        fields: Fields = {}
        for key, value in item.items():
            where = f"{item_prefix}{key} ({source})"
            if key not in GATEWAY_KEYS:
                problems.append(f"{where}: {_unknown(str(key), list(GATEWAY_KEYS))}")
            elif value is not None:
                fields[key] = Raw(value, where)
        entries.append(GatewayEntry(fields, f"{prefix}[{index}] ({source})", item_prefix, source))
    return entries


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key '{key}'")
        result[key] = value
    return result


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key_node, yaml.ScalarNode):  # a list or mapping as a key
                line = key_node.start_mark.line + 1
                raise _DuplicateKey(f"a key must be a plain value, at line {line}")
            if key in seen:
                line = key_node.start_mark.line + 1
                raise _DuplicateKey(f"duplicate key '{key}' at line {line}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def file_layer(path: str, path_label: str) -> Layer:
    """The YAML/JSON file at `path`; path_label names where the path came from."""
    layer = Layer()
    try:
        text = read_config_text(path)
    except DocumentProblem as exc:
        layer.problems.append(f"{path_label}: {exc}")
        layer.broken = True
        return layer
    data = _parse_document(path, text, path_label, layer.problems)
    layer.broken = not isinstance(data, dict)
    if data is not None:
        _fill_from_document(layer, data, f"file {path}")
    return layer


def _parse_document(path: str, text: str, label: str, problems: list[str]) -> Any:
    if path.endswith(".json"):
        try:
            return _empty_as_mapping(load_json(text, object_pairs_hook=_no_duplicate_keys))
        except (ValueError, _DuplicateKey, DocumentProblem) as exc:
            problems.append(f"{label}: invalid JSON in '{path}': {exc}")
            return None
    try:
        return _empty_as_mapping(load_yaml(text, _StrictLoader))
    except (_DuplicateKey, DocumentProblem) as exc:
        problems.append(f"{label}: invalid YAML in '{path}': {exc}")
    except yaml.MarkedYAMLError as exc:  # the mark's snippet could show a secret: line only
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(f"{label}: invalid YAML in '{path}'{where}: {exc.problem}")
    except yaml.YAMLError:
        problems.append(f"{label}: invalid YAML in '{path}'")
    return None


def _empty_as_mapping(data: Any) -> Any:
    return {} if data is None else data  # an empty file configures nothing


def _fill_from_document(layer: Layer, data: Any, source: str) -> None:
    if not isinstance(data, dict):
        layer.problems.append(f"top level ({source}): must be a mapping with server/gateways")
        return
    for key, value in data.items():
        if key == "gateways":
            layer.gateways_label = f"gateways ({source})"
            layer.gateways = gateway_entries(value, "gateways", source, layer.problems)
            layer.broken = not isinstance(value, list)
        elif key == "server":
            _fill_section(layer.server, value, "server", SERVER_FILE_KEYS, source, layer.problems)
        elif key == "mqtt":
            _fill_section(layer.server, value, "mqtt", MQTT_FILE_KEYS, source, layer.problems)
        elif key == "defaults":
            section, keys = layer.defaults, DEFAULT_FILE_KEYS
            _fill_section(section, value, "defaults", keys, source, layer.problems)
        else:
            known = ["server", "mqtt", "defaults", "gateways"]
            layer.problems.append(f"{key} ({source}): {_unknown(str(key), known)}")


def _fill_section(
    target: Fields,
    section: Any,
    name: str,
    keys: Mapping[str, str],
    source: str,
    problems: list[str],
) -> None:
    if section is None:
        return
    if not isinstance(section, dict):
        problems.append(f"{name} ({source}): must be a mapping")
        return
    for key, value in section.items():
        where = f"{name}.{key} ({source})"
        if key not in keys:
            problems.append(f"{where}: {_unknown(str(key), list(keys))}")
        elif keys[key] in target:
            problems.append(f"{where}: set twice ({SAME_SETTING[keys[key]]} are the same setting)")
        elif value is not None:
            target[keys[key]] = Raw(value, where)
