"""Which components and signals a GraphQL query selects, so the gateway answers only what
was asked, as the real one does (it silently drops signal names it does not know).

A query selects components per alias, e.g.
    pch: components(filter: $pchComponentsFilter) { signals(names: $pchSignalNames) ...}
with the filter and names either as variables (query set V2024_06, variables JSON in the
request) or inline (V2026_06: `filter:{types:[PCH]}`, `names:["PCH_State" ...]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pypowerwall_server.simulator.tedapi_common import JsonDict

ALIAS = re.compile(
    r"(\w+)\s*:\s*components\s*\(\s*filter\s*:\s*(\$\w+|\{[^)]*?\})\s*\)\s*\{[^{}]*?"
    r"signals\s*\(\s*names\s*:\s*(\$\w+|\[[^\]]*\])\s*\)"
)
QUOTED = re.compile(r'"([^"]+)"')
TYPE_LIST = re.compile(r"types\s*:\s*\[([^\]]*)\]")

Catalog = Iterable[tuple[str, JsonDict]]  # (component type, component with every signal)


@dataclass(frozen=True, slots=True)
class AliasSelection:
    types: frozenset[str]
    signals: frozenset[str]


@dataclass(frozen=True, slots=True)
class Selection:
    aliases: Mapping[str, AliasSelection] = field(default_factory=dict)

    def answer(self, catalog: Catalog) -> dict[str, list[JsonDict]]:
        """Per alias, the catalog's components of the selected types (in catalog order),
        each with only the selected signals."""
        entries = list(catalog)
        return {
            alias: [_only(c, wanted.signals) for kind, c in entries if kind in wanted.types]
            for alias, wanted in self.aliases.items()
        }


def parse_selection(text: str, variables_json: str) -> Selection:
    variables = _variables(variables_json)
    aliases = {
        alias: AliasSelection(_types(filter_ref, variables), _names(names_ref, variables))
        for alias, filter_ref, names_ref in ALIAS.findall(text)
    }
    return Selection(aliases)


def _only(component: JsonDict, names: frozenset[str]) -> JsonDict:
    return {**component, "signals": [s for s in component["signals"] if s["name"] in names]}


def _variables(variables_json: str) -> dict[str, Any]:
    try:
        value = json.loads(variables_json or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _types(ref: str, variables: Mapping[str, Any]) -> frozenset[str]:
    if ref.startswith("$"):
        value = variables.get(ref[1:])
        types = value.get("types") if isinstance(value, dict) else None
        return frozenset(t for t in types or [] if isinstance(t, str))
    match = TYPE_LIST.search(ref)
    return frozenset(match.group(1).replace(",", " ").split()) if match else frozenset()


def _names(ref: str, variables: Mapping[str, Any]) -> frozenset[str]:
    if ref.startswith("$"):
        value = variables.get(ref[1:])
        names = value if isinstance(value, list) else []
        return frozenset(n for n in names if isinstance(n, str))
    return frozenset(QUOTED.findall(ref))
